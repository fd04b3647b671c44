// Real-browser proof of WebTransport: starts `tquic serve --webtransport-echo /echo` on
// 127.0.0.1, opens its example page in Debian's chromium (headless, via puppeteer-core), and
// asserts what the page reports: the session opened with serverCertificateHashes, a
// bidirectional stream and a unidirectional stream came back byte-exact, three datagrams came
// back, and the close reached the server with the page's code and reason.
//
// usage: node wt_echo_test.mjs TQUIC_BINARY [CHROMIUM]
// The page itself is loaded over HTTP/3 too: --origin-to-force-quic-on makes chromium use QUIC
// for the page's origin, and --ignore-certificate-errors-spki-list pins the server's key for
// that load only (the WebTransport session trusts the certificate by its hash, not this flag).
import {spawn} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import assert from 'node:assert/strict';
import puppeteer from 'puppeteer-core';

const [tquic, chromium = '/usr/bin/chromium'] = process.argv.slice(2);
const deadline = setTimeout(() => fail('test took longer than 45 s'), 45000);
const dir = mkdtempSync(join(tmpdir(), 'tquic-browser-'));
writeFileSync(join(dir, 'index.html'), 'tquic\n');
let server, browser, serverLog = '';

function fail(msg) {
  console.error('FAIL: ' + msg);
  console.error('--- server log ---\n' + serverLog);
  cleanup();
  process.exit(1);
}

function cleanup() {
  clearTimeout(deadline);
  if (browser) browser.process()?.kill('SIGKILL');
  if (server && server.exitCode === null) server.kill('SIGTERM');
  rmSync(dir, {recursive: true, force: true});
}

function startServer() {
  return new Promise((resolve, reject) => {
    server = spawn(tquic, ['serve', dir, '--listen', '127.0.0.1:0', '--webtransport-echo', '/echo',
                           '-v'], {stdio: ['ignore', 'pipe', 'pipe']});
    const info = {};
    server.stdout.on('data', (d) => {
      serverLog += d;
      const port = /listening on 127\.0\.0\.1:(\d+)/.exec(serverLog);
      const hash = /certificate sha256 ([0-9a-f]{64})/.exec(serverLog);
      const spki = /certificate spki-sha256 ([0-9a-f]{64})/.exec(serverLog);
      if (port && hash && spki && !info.port) {
        Object.assign(info, {port: port[1], hash: hash[1], spki: spki[1]});
        resolve(info);
      }
    });
    server.stderr.on('data', (d) => { serverLog += d; });
    server.on('exit', (code) => reject(new Error('tquic serve exited with ' + code)));
  });
}

async function main() {
  const info = await startServer();
  const origin = '127.0.0.1:' + info.port;
  const spkiBase64 = Buffer.from(info.spki, 'hex').toString('base64');
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--enable-quic', '--origin-to-force-quic-on=' + origin,
           '--ignore-certificate-errors-spki-list=' + spkiBase64, '--no-first-run',
           '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage();
  page.on('console', (m) => console.log('page: ' + m.text()));
  await page.goto('https://' + origin + '/echo', {timeout: 15000});
  await page.waitForFunction('window.wtResult !== undefined', {timeout: 30000});
  const result = await page.evaluate('window.wtResult');
  console.log('page result: ' + JSON.stringify(result));
  await browser.close();
  browser = undefined;
  // The server logs the session's end with the code and reason the page closed it with.
  for (let i = 0; i < 50 && !/webtransport session \d+ closed/.test(serverLog); ++i) {
    await new Promise((ok) => setTimeout(ok, 100));
  }
  assert.equal(result.error, undefined, 'the page failed: ' + result.error);
  assert.equal(result.bidi, 'hello bidi');
  assert.equal(result.uni, 'hello uni');
  assert.deepEqual(result.datagrams, ['datagram 0', 'datagram 1', 'datagram 2']);
  assert.match(serverLog, /"CONNECT \/echo" webtransport accepted/);
  assert.match(serverLog, /webtransport session \d+ closed: code 7 "done"/);
  console.log('--- server log ---\n' + serverLog);
  console.log('PASS: chromium echoed a bidi stream, a uni stream and 3 datagrams over TQUIC');
}

main().then(() => { cleanup(); process.exit(0); }, (e) => fail(e.stack || String(e)));
