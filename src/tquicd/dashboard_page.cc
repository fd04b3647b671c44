// The live dashboard: one self-contained page (no CDN, no library) that polls /api/status and
// /api/events and draws per-link history as SVG polylines with the small plotting code below.
// Test hooks (tests/browser/dashboard_test.mjs): #bond, #links tr[data-link], and in each
// chart's SVG a polyline[data-link] whose data-points counts the samples drawn.
#include "tquicd/dashboard.h"

namespace bond {

const std::string_view kDashboardPage = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tquicd</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:1em;background:#fafafa;color:#222}
h1{font-size:1.3em;margin:0 0 .5em}
#bond{font-weight:bold;padding:.1em .5em;border-radius:.3em}
.s-bonded{background:#c8f0c8}.s-single{background:#fff3b0}.s-degraded{background:#ffd59e}
.s-down,.s-reconnecting{background:#f4b0b0}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .6em;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:1em}
.chart{background:#fff;border:1px solid #ddd;padding:.4em}
.chart h2{font-size:1em;margin:0 0 .3em}
svg{width:100%;height:160px}
#events{font-family:monospace;font-size:12px;max-height:12em;overflow:auto;background:#fff;border:1px solid #ddd;padding:.3em}
.legend span{margin-right:1em}
</style></head><body>
<h1>tquicd <span id="bond">…</span> <small id="meta"></small></h1>
<table id="links"><thead><tr><th>link</th><th>interface</th><th>role</th><th>state</th>
<th>RTT ms</th><th>loss %</th><th>tx bit/s</th><th>rx bit/s</th><th>quota</th></tr></thead>
<tbody></tbody></table>
<table id="conns" hidden><thead><tr><th>client</th><th>address</th><th>remote</th><th>paths</th>
<th>tx</th><th>rx</th><th>age s</th></tr></thead><tbody></tbody></table>
<div class="legend" id="legend"></div>
<div class="charts">
<div class="chart"><h2>throughput (tx+rx, bit/s)</h2><svg id="chart-throughput"></svg></div>
<div class="chart"><h2>RTT (ms)</h2><svg id="chart-rtt"></svg></div>
<div class="chart"><h2>loss (%)</h2><svg id="chart-loss"></svg></div>
<div class="chart"><h2>quota used (%)</h2><svg id="chart-quota"></svg></div>
</div>
<h2 style="font-size:1em">events</h2><div id="events"></div>
<script>
"use strict";
const params = new URLSearchParams(location.search);
const interval = Math.max(100, Number(params.get("interval")) || 1000);
const maxSamples = 300;
const colors = ["#1f77b4","#d62728","#2ca02c","#ff7f0e","#9467bd","#8c564b","#e377c2","#17becf"];
const history = new Map();  // link name -> [{t, thr, rtt, loss, quota}]
let lastEvent = 0;
window.tquicdSamples = 0;
const NS = "http://www.w3.org/2000/svg";

function human(v) {
  if (v >= 1e9) return (v / 1e9).toFixed(2) + "G";
  if (v >= 1e6) return (v / 1e6).toFixed(2) + "M";
  if (v >= 1e3) return (v / 1e3).toFixed(1) + "k";
  return String(Math.round(v));
}
function cell(tr, text) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }
function color(i) { return colors[i % colors.length]; }

function renderTable(s) {
  const bond = document.getElementById("bond");
  bond.textContent = s.bond;
  bond.className = "s-" + s.bond;
  document.getElementById("meta").textContent =
    s.role + " · uptime " + Math.round(s.uptime_ms / 1000) + " s · tunnel " + (s.tunnel || "-");
  const body = document.querySelector("#links tbody");
  body.replaceChildren();
  for (const l of s.links) {
    const tr = document.createElement("tr");
    tr.dataset.link = l.name;
    tr.dataset.state = l.state;
    cell(tr, l.name); cell(tr, l.interface || "-"); cell(tr, l.role);
    cell(tr, l.admin_down ? "down (admin)" : l.state);
    cell(tr, l.rtt_us ? (l.rtt_us / 1000).toFixed(1) : "-");
    cell(tr, (l.loss * 100).toFixed(2));
    cell(tr, human(l.tx_rate_bps)); cell(tr, human(l.rx_rate_bps));
    cell(tr, l.quota_bytes ? human(l.quota_used_bytes) + "B / " + human(l.quota_bytes) + "B" : "-");
    body.appendChild(tr);
  }
}

// The server's clients, shown when there are any.
function renderConns(s) {
  const table = document.getElementById("conns");
  table.hidden = s.conns.length === 0;
  const body = table.querySelector("tbody");
  body.replaceChildren();
  for (const c of s.conns) {
    const tr = document.createElement("tr");
    tr.dataset.client = c.client;
    cell(tr, c.client); cell(tr, c.inner_address); cell(tr, c.remote); cell(tr, c.paths);
    cell(tr, human(c.tx_bytes) + "B"); cell(tr, human(c.rx_bytes) + "B");
    cell(tr, Math.round(c.age_ms / 1000));
    body.appendChild(tr);
  }
}

function record(s, t) {
  for (const l of s.links) {
    if (!history.has(l.name)) history.set(l.name, []);
    const h = history.get(l.name);
    h.push({t, thr: l.tx_rate_bps + l.rx_rate_bps, rtt: l.rtt_us / 1000, loss: l.loss * 100,
            quota: l.quota_bytes ? 100 * l.quota_used_bytes / l.quota_bytes : 0});
    if (h.length > maxSamples) h.shift();
  }
  const names = new Set(s.links.map(l => l.name));
  for (const k of [...history.keys()]) if (!names.has(k)) history.delete(k);
}

// Draws one chart: axes box, a max label and one polyline per link, scaled to the data.
function draw(id, key) {
  const svg = document.getElementById(id);
  const w = svg.clientWidth || 400, h = svg.clientHeight || 160, pad = 4, left = 44;
  let tMin = Infinity, tMax = -Infinity, vMax = 0;
  for (const h of history.values()) for (const p of h) {
    tMin = Math.min(tMin, p.t); tMax = Math.max(tMax, p.t); vMax = Math.max(vMax, p[key]);
  }
  if (vMax <= 0) vMax = 1;
  const span = Math.max(tMax - tMin, 1);
  svg.setAttribute("viewBox", "0 0 " + w + " " + h);
  svg.replaceChildren();
  const frame = document.createElementNS(NS, "rect");
  frame.setAttribute("x", left); frame.setAttribute("y", pad);
  frame.setAttribute("width", w - left - pad); frame.setAttribute("height", h - 2 * pad);
  frame.setAttribute("fill", "none"); frame.setAttribute("stroke", "#ccc");
  svg.appendChild(frame);
  const label = document.createElementNS(NS, "text");
  label.setAttribute("x", 2); label.setAttribute("y", 14); label.setAttribute("font-size", 11);
  label.textContent = human(vMax);
  svg.appendChild(label);
  let i = 0;
  for (const [name, hist] of history) {
    const pts = hist.map(p => {
      const x = left + (w - left - pad) * (p.t - tMin) / span;
      const y = h - pad - (h - 2 * pad) * p[key] / vMax;
      return x.toFixed(1) + "," + y.toFixed(1);
    });
    const line = document.createElementNS(NS, "polyline");
    line.setAttribute("points", pts.join(" "));
    line.setAttribute("fill", "none");
    line.setAttribute("stroke", color(i++));
    line.setAttribute("stroke-width", 1.5);
    line.dataset.link = name;
    line.dataset.points = String(pts.length);
    svg.appendChild(line);
  }
}

function legend() {
  const el = document.getElementById("legend");
  el.replaceChildren();
  let i = 0;
  for (const name of history.keys()) {
    const s = document.createElement("span");
    s.style.color = color(i++);
    s.textContent = "■ " + name;
    el.appendChild(s);
  }
}

async function pollEvents() {
  const r = await fetch("/api/events?after=" + lastEvent, {cache: "no-store"});
  const list = await r.json();
  const box = document.getElementById("events");
  for (const e of list) {
    lastEvent = Math.max(lastEvent, e.seq);
    const div = document.createElement("div");
    div.textContent = "#" + e.seq + " +" + (e.time_ms / 1000).toFixed(3) + "s " + e.event +
                      (e.link ? " " + e.link : "") + (e.detail ? ": " + e.detail : "");
    box.prepend(div);
  }
  while (box.childElementCount > 200) box.lastElementChild.remove();
}

async function tick() {
  try {
    const r = await fetch("/api/status", {cache: "no-store"});
    const s = await r.json();
    record(s, s.uptime_ms / 1000);  // the daemon's clock, as /api/history's samples
    renderTable(s);
    renderConns(s);
    legend();
    draw("chart-throughput", "thr"); draw("chart-rtt", "rtt");
    draw("chart-loss", "loss"); draw("chart-quota", "quota");
    window.tquicdSamples++;
    await pollEvents();
  } catch (err) {
    document.getElementById("bond").textContent = "unreachable";
    document.getElementById("bond").className = "s-down";
  }
  setTimeout(tick, interval);
}
// The daemon's own history first, so a page opened now shows the last minutes at once.
async function loadHistory() {
  try {
    const r = await fetch("/api/history", {cache: "no-store"});
    for (const sample of await r.json()) {
      for (const l of sample.links) {
        if (!history.has(l.name)) history.set(l.name, []);
        history.get(l.name).push({t: sample.t, thr: l.thr, rtt: l.rtt, loss: l.loss, quota: l.quota});
      }
    }
    for (const h of history.values()) h.splice(0, Math.max(0, h.length - maxSamples));
  } catch (err) {
    history.clear();
  }
}
loadHistory().then(tick);
</script></body></html>
)html";

}  // namespace bond
