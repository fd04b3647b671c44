// The example page of `tquic serve --webtransport-echo PATH`, served at GET PATH: it opens a
// WebTransport session to the same URL with serverCertificateHashes, echoes a bidirectional
// stream, a unidirectional stream and datagrams, and shows the outcome as JSON in #result
// (tests/browser reads it from there). The certificate hash is filled in by the server.
#include "apps/wt_echo.h"

namespace apps {

namespace {

constexpr std::string_view kPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>TQUIC WebTransport echo</title>
<style>body{font-family:sans-serif;margin:2em}pre{background:#eee;padding:1em}</style>
</head>
<body>
<h1>TQUIC WebTransport echo</h1>
<p>Server certificate SHA-256: <code id="hash">@HASH@</code></p>
<p>Status: <span id="status">starting</span></p>
<pre id="result"></pre>
<script>
'use strict';
const certHash = '@HASH@';
const params = new URLSearchParams(location.search);
const url = params.get('url') || ('https://' + location.host + location.pathname);
const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);
const hexBytes = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16)));
const status = (s) => { document.getElementById('status').textContent = s; };
const withTimeout = (p, ms, what) => Promise.race([p, new Promise((_, reject) =>
    setTimeout(() => reject(new Error(what + ': timed out')), ms))]);

async function readAll(readable) {
  const reader = readable.getReader();
  const parts = [];
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    parts.push(dec(value));
  }
  return parts.join('');
}

async function echoBidi(wt) {
  const stream = await wt.createBidirectionalStream();
  const writer = stream.writable.getWriter();
  await writer.write(enc('hello bidi'));
  await writer.close();
  return readAll(stream.readable);
}

async function echoUni(wt) {
  const incoming = wt.incomingUnidirectionalStreams.getReader();
  const stream = await wt.createUnidirectionalStream();
  const writer = stream.getWriter();
  await writer.write(enc('hello uni'));
  await writer.close();
  const {value} = await incoming.read();
  return readAll(value);
}

async function echoDatagrams(wt) {
  const writer = wt.datagrams.writable.getWriter();
  const reader = wt.datagrams.readable.getReader();
  const got = new Set();
  // Datagrams may be lost: send each a few times until its echo is back.
  for (let round = 0; round < 20 && got.size < 3; ++round) {
    for (let i = 0; i < 3; ++i) {
      if (!got.has('datagram ' + i)) await writer.write(enc('datagram ' + i));
    }
    const r = await Promise.race([reader.read(), new Promise((ok) => setTimeout(ok, 250))]);
    if (r && r.value) got.add(dec(r.value));
  }
  return [...got].sort();
}

async function run() {
  const result = {url: url};
  try {
    status('connecting');
    const wt = new WebTransport(url, {
      serverCertificateHashes: [{algorithm: 'sha-256', value: hexBytes(certHash)}],
    });
    await withTimeout(wt.ready, 10000, 'session');
    status('connected');
    result.bidi = await withTimeout(echoBidi(wt), 10000, 'bidi');
    result.uni = await withTimeout(echoUni(wt), 10000, 'uni');
    result.datagrams = await withTimeout(echoDatagrams(wt), 10000, 'datagrams');
    wt.close({closeCode: 7, reason: 'done'});
    const closed = await withTimeout(wt.closed, 5000, 'close');
    result.closed = closed;
    status('done');
  } catch (e) {
    result.error = String(e);
    status('failed');
  }
  document.getElementById('result').textContent = JSON.stringify(result);
  window.wtResult = result;
}
run();
</script>
</body>
</html>
)html";

}  // namespace

std::string webtransport_echo_page(std::string_view cert_sha256_hex) {
  std::string page(kPage);
  for (size_t at = page.find("@HASH@"); at != std::string::npos; at = page.find("@HASH@", at)) {
    page.replace(at, 6, cert_sha256_hex);
    at += cert_sha256_hex.size();
  }
  return page;
}

}  // namespace apps
