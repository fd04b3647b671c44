// Real-browser test of tquicd's live dashboard: starts the fake-status server
// (tests/tquicd/dashboard_fake_server.cc), opens its page in Debian's chromium (headless, via
// puppeteer-core) and checks what a person would see: the bond state, one table row per link
// with its state, and the four SVG charts drawing a growing, changing line per link. The page
// may load nothing from elsewhere (no CDN): every request must go to the server's origin.
import {spawn} from 'node:child_process';
import assert from 'node:assert/strict';
import puppeteer from 'puppeteer-core';

const [serverBinary, chromium = '/usr/bin/chromium'] = process.argv.slice(2);
const deadline = setTimeout(() => fail('test took longer than 45 s'), 45000);
let server, browser, serverLog = '';
const extraServers = [];

function fail(msg) {
  console.error('FAIL: ' + msg);
  console.error('--- server log ---\n' + serverLog);
  cleanup();
  process.exit(1);
}

function cleanup() {
  clearTimeout(deadline);
  if (browser) browser.process()?.kill('SIGKILL');
  for (const s of [server, ...extraServers])
    if (s && s.exitCode === null) s.kill('SIGTERM');
}

function startServer(args = []) {
  return new Promise((resolve, reject) => {
    // stdin is a pipe we keep open: the server ends when it closes.
    const child = spawn(serverBinary, args, {stdio: ['pipe', 'pipe', 'pipe']});
    if (server) extraServers.push(child); else server = child;
    let log = '';
    child.stdout.on('data', (d) => {
      log += d;
      serverLog += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolve(m[1]);
    });
    child.stderr.on('data', (d) => { serverLog += d; });
    child.on('exit', (code) => reject(new Error('server exited with ' + code)));
  });
}

// Per chart and link: the number of points drawn and of distinct y values.
function chartState() {
  const out = {};
  for (const svg of document.querySelectorAll('svg[id^="chart-"]')) {
    out[svg.id] = {};
    for (const line of svg.querySelectorAll('polyline')) {
      const ys = (line.getAttribute('points') || '').trim().split(/\s+/).filter(Boolean)
                     .map((p) => Number(p.split(',')[1]));
      out[svg.id][line.dataset.link] = {
        points: Number(line.dataset.points), parsed: ys.length,
        finite: ys.every(Number.isFinite), distinct: new Set(ys).size};
    }
  }
  return out;
}

async function main() {
  const port = await startServer();
  const origin = 'http://127.0.0.1:' + port;
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage();
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(origin)) foreign.push(r.url()); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(origin + '/?interval=200', {timeout: 15000});

  await page.waitForFunction(() => window.tquicdSamples >= 8, {timeout: 20000});
  const bond = await page.$eval('#bond', (e) => e.textContent);
  assert.ok(['bonded', 'degraded'].includes(bond), 'bond state shown: ' + bond);
  const rows = await page.$$eval('#links tbody tr', (trs) =>
      trs.map((tr) => ({link: tr.dataset.link, state: tr.dataset.state,
                        cells: [...tr.children].map((td) => td.textContent)})));
  assert.deepEqual(rows.map((r) => r.link), ['fibre', 'lte', 'sat']);
  assert.equal(rows[0].cells[2], 'primary');
  assert.equal(rows[2].cells[2], 'backup');
  assert.match(rows[1].cells[8], /B \/ 5\.00GB$/, 'lte shows bytes against its quota');

  const charts = await page.evaluate(chartState);
  assert.deepEqual(Object.keys(charts).sort(),
                   ['chart-loss', 'chart-quota', 'chart-rtt', 'chart-throughput']);
  for (const [id, lines] of Object.entries(charts)) {
    assert.deepEqual(Object.keys(lines).sort(), ['fibre', 'lte', 'sat'], id);
    for (const [link, l] of Object.entries(lines)) {
      assert.ok(l.points >= 8 && l.parsed === l.points && l.finite, `${id}/${link}: ${JSON.stringify(l)}`);
    }
  }
  // The fake figures change every step: fibre's throughput and RTT lines are not flat, and
  // lte's quota use grows.
  assert.ok(charts['chart-throughput'].fibre.distinct > 1, 'throughput line moves');
  assert.ok(charts['chart-rtt'].fibre.distinct > 1, 'RTT line moves');
  assert.ok(charts['chart-quota'].lte.distinct > 1, 'quota line moves');
  // Events appear in the log (the fake server logs a failover every tenth step).
  await page.waitForFunction(() => document.querySelector('#events').textContent
                                       .includes('failover lte: to fibre'), {timeout: 10000});
  assert.ok(await page.$eval('#conns', (t) => t.hidden), 'no clients table on the client side');
  // A page opened later starts with the daemon's history (/api/history), not empty: its
  // lines hold the earlier samples before it has polled more than once.
  // The daemon keeps one sample a second (StatusHistory::kInterval): a fast run gets here
  // with fewer than 8, so wait (bounded) until the history holds them.
  for (let i = 0; i < 100; ++i) {
    const h = await (await fetch(origin + '/api/history', {cache: 'no-store'})).json();
    if (h.length >= 8) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const later = await browser.newPage();
  later.on('pageerror', (e) => errors.push(String(e)));
  await later.goto(origin + '/?interval=5000', {timeout: 15000});
  await later.waitForFunction(() => window.tquicdSamples >= 1, {timeout: 10000});
  const early = (await later.evaluate(chartState))['chart-throughput'];
  assert.ok(early.fibre && early.fibre.points >= 8 && early.fibre.finite,
            'history drawn at once: ' + JSON.stringify(early));
  await later.close();
  assert.deepEqual(foreign, [], 'requests only to the server');
  assert.deepEqual(errors, [], 'no script errors');

  // The server's view: its clients in a table of their own.
  const serverPort = await startServer(['--server']);
  const serverPage = await browser.newPage();
  serverPage.on('pageerror', (e) => errors.push(String(e)));
  await serverPage.goto('http://127.0.0.1:' + serverPort + '/?interval=200', {timeout: 15000});
  await serverPage.waitForFunction(() => window.tquicdSamples >= 2, {timeout: 20000});
  const clients = await serverPage.$$eval('#conns:not([hidden]) tbody tr',
                                          (trs) => trs.map((tr) => tr.children[1].textContent));
  assert.deepEqual(clients, ['10.8.0.2'], 'the client connection with its inner address');
  assert.deepEqual(errors, [], 'no script errors');
  console.log(`PASS: dashboard rows ${rows.map((r) => r.link + '=' + r.state).join(' ')}, ` +
              `bond ${bond}, ${charts['chart-throughput'].fibre.points} points per line`);
}

main().then(() => { cleanup(); process.exit(0); }, (e) => fail(e.stack || String(e)));
