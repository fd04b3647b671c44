#!/usr/bin/env python3
"""The bond demo's report: text on stdout, an HTML page with inline SVG charts, a JSON summary.

    demo/report.py DIR [--html FILE] [--json FILE]

DIR holds what demo/bond_demo.sh records (docs/demo.md, "Recorded data"):
  meta.json    t0 (epoch of the bonded flow's start), links [{name, rate_mbit, delay_ms}],
               single_link, warmup (s), cc, direction ("up": LAN to internet)
  single.json  iperf3 -J --get-server-output of the single-link reference flow
  bond.json    the same for the bonded flow (its link goes down and back mid-way)
  ping.txt     ping -D -O through the tunnel during the bonded flow
  links.tsv    per-link samples: epoch link state tx_bytes rx_bytes rtt_ms ('-' = unknown)
  events.tsv   epoch kind link: link_down / link_up

Every time in the report is seconds after t0. The page needs no script and no network:
the charts are SVG drawn here.
"""
import argparse
import html
import json
import math
import os
import re
import sys

# Receiver intervals of the reference flow skipped as slow start, when meta.json names none.
DEFAULT_WARMUP_S = 2.0
# A link counts as carrying traffic again once a sample shows this much in its data direction.
CARRYING_MBIT = 1.0
# Aggregate goodput is drawn in buckets of this many seconds (iperf3 reports every 0.1 s).
THROUGHPUT_BUCKET_S = 0.5
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


class ReportError(Exception):
    """Recorded data missing or malformed: the message names the file."""


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ReportError(f"{path}: {e}") from e


def receiver_intervals(iperf_json, path):
    """[(start, end, bytes)] of the receiving side (the iperf3 server's 0.1 s intervals)."""
    server = iperf_json.get("server_output_json")
    if not isinstance(server, dict) or "intervals" not in server:
        raise ReportError(f"{path}: no server_output_json (run iperf3 -s -J, client "
                          "--get-server-output)")
    out = []
    for iv in server["intervals"]:
        s = iv.get("sum", {})
        out.append((float(s["start"]), float(s["end"]), int(s["bytes"])))
    return out


def mean_mbit(intervals, start, end):
    """Goodput in Mbit/s over the intervals lying within [start, end)."""
    inside = [iv for iv in intervals if iv[0] >= start - 1e-6 and iv[1] <= end + 1e-6]
    seconds = sum(iv[1] - iv[0] for iv in inside)
    if seconds <= 0:
        return None
    return sum(iv[2] for iv in inside) * 8 / seconds / 1e6


def longest_zero_run(intervals, start=0.0):
    """Longest stretch of consecutive receiver intervals with nothing delivered, from start:
    (seconds, first interval start), or (0, None)."""
    best, best_at, run, run_at = 0.0, None, 0.0, None
    for s, e, b in intervals:
        if s < start - 1e-6:
            continue
        if b == 0:
            if run == 0.0:
                run_at = s
            run += e - s
            if run > best:
                best, best_at = run, run_at
        else:
            run = 0.0
    return best, best_at


PING_REPLY = re.compile(r"^\[(\d+\.\d+)\].*icmp_seq=(\d+).*time=([\d.]+) ms")
PING_LOST = re.compile(r"^\[(\d+\.\d+)\] no answer yet for icmp_seq=(\d+)")
PING_SUMMARY = re.compile(r"(\d+) packets transmitted, (\d+) received")


def parse_ping(path, t0):
    """Replies [(send time, rtt ms, seq)], lost sequence numbers, and how many were sent."""
    replies, lost, sent = [], set(), None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError as e:
        raise ReportError(f"{path}: {e}") from e
    for line in lines:
        m = PING_REPLY.match(line)
        if m:
            rtt = float(m.group(3))
            replies.append((float(m.group(1)) - rtt / 1000 - t0, rtt, int(m.group(2))))
            continue
        m = PING_LOST.match(line)
        if m:
            lost.add(int(m.group(2)))
            continue
        m = PING_SUMMARY.search(line)
        if m:
            sent = int(m.group(1))
    answered = {r[2] for r in replies}
    if sent is not None:
        lost |= set(range(1, sent + 1)) - answered
    lost -= answered
    return sorted(replies), sorted(lost), sent if sent is not None else len(replies) + len(lost)


def percentile(values, p):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, math.ceil(p / 100 * len(v)) - 1))]


def ping_gap(replies):
    """Longest time between the send times of two consecutive answered pings."""
    best = 0.0
    for a, b in zip(replies, replies[1:]):
        best = max(best, b[0] - a[0])
    return best


def parse_links(path, t0, direction):
    """{link: [(t, state, data_bytes, rtt_ms or None)]} in sample order."""
    out = {}
    try:
        with open(path, encoding="utf-8") as f:
            rows = [line.split() for line in f if line.strip() and not line.startswith("#")]
    except OSError as e:
        raise ReportError(f"{path}: {e}") from e
    for n, row in enumerate(rows, 1):
        if len(row) != 6:
            raise ReportError(f"{path}:{n}: want 6 fields (epoch link state tx rx rtt)")
        try:
            epoch, tx, rx = float(row[0]), int(row[3]), int(row[4])
            rtt = None if row[5] == "-" else float(row[5])
        except ValueError as e:
            raise ReportError(f"{path}:{n}: {e}") from e
        data = tx if direction == "up" else rx
        out.setdefault(row[1], []).append((epoch - t0, row[2], data, rtt))
    return out


def link_rates(samples):
    """[(t, Mbit/s)] between consecutive samples of one link (a counter reset gives 0)."""
    out = []
    for (t1, _, b1, _), (t2, _, b2, _) in zip(samples, samples[1:]):
        if t2 > t1:
            out.append((t2, max(0, b2 - b1) * 8 / (t2 - t1) / 1e6))
    return out


def parse_events(path, t0):
    out = []
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            row = line.split()
            if not row or row[0].startswith("#"):
                continue
            if len(row) < 3:
                raise ReportError(f"{path}:{n}: want epoch kind link")
            try:
                out.append((float(row[0]) - t0, row[1], row[2]))
            except ValueError as e:
                raise ReportError(f"{path}:{n}: {e}") from e
    return out


def down_window(events):
    """(link, start, end or None) of the first link_down and the link_up after it."""
    for i, (t, kind, link) in enumerate(events):
        if kind == "link_down":
            end = next((u for u, k, l in events[i + 1:] if k == "link_up" and l == link), None)
            return link, t, end
    return None


def summarize(d):
    """Every figure of the report, from the recorded data (load())."""
    meta, bond, single = d["meta"], d["bond"], d["single"]
    warmup = float(meta.get("warmup", DEFAULT_WARMUP_S))
    end = bond[-1][1] if bond else 0.0
    window = down_window(d["events"])
    down_at, up_at = (window[1], window[2]) if window else (end, None)
    s = {"links": meta["links"], "single_link": meta.get("single_link"), "cc": meta.get("cc"),
         "duration_s": round(end, 2), "warmup_s": warmup}
    s["single_mbit"] = mean_mbit(single, warmup, single[-1][1] if single else 0)
    s["bond_mbit"] = mean_mbit(bond, warmup, down_at)
    s["shaped_sum_mbit"] = sum(float(l["rate_mbit"]) for l in meta["links"])
    s["bond_total_mbit"] = mean_mbit(bond, 0, end)
    s["bond_bytes"] = sum(iv[2] for iv in bond)
    if window:
        s["down"] = {"link": window[0], "start": round(down_at, 2),
                     "end": None if up_at is None else round(up_at, 2)}
        s["during_down_mbit"] = mean_mbit(bond, down_at, up_at if up_at is not None else end)
        s["after_up_mbit"] = mean_mbit(bond, up_at, end) if up_at is not None else None
        s["bytes_after_down"] = sum(iv[2] for iv in bond if iv[0] >= down_at)
        s["back_after_s"] = link_back_after(d["links"].get(window[0], []), up_at)
    gap, gap_at = longest_zero_run(bond, min(warmup, down_at))
    s["gap_s"], s["gap_at"] = round(gap, 3), gap_at
    s["ratio"] = (s["bond_mbit"] / s["single_mbit"]) if s["bond_mbit"] and s["single_mbit"] else None
    s["bond_beats_single"] = bool(s["ratio"] and s["ratio"] > 1.0)
    s["flow_survived"] = d["bond_ok"] and (not window or s["bytes_after_down"] > 0)
    s.update(ping_figures(d["ping"], down_at))
    s["per_link"] = per_link_figures(d["links"], warmup, down_at)
    return s


def link_back_after(samples, up_at):
    if up_at is None:
        return None
    for t, mbit in link_rates(samples):
        if t > up_at and mbit >= CARRYING_MBIT:
            return round(t - up_at, 2)
    return None


def ping_figures(ping, down_at):
    replies, lost, sent = ping
    idle = [r[1] for r in replies if r[0] < 0]
    load = [r[1] for r in replies if 0 <= r[0] < down_at]
    return {"ping_sent": sent, "ping_lost": len(lost),
            "ping_idle_p50_ms": percentile(idle, 50), "ping_load_p50_ms": percentile(load, 50),
            "ping_load_p99_ms": percentile(load, 99), "ping_gap_s": round(ping_gap(replies), 3)}


def per_link_figures(links, warmup, down_at):
    out = {}
    for name, samples in links.items():
        rates = [m for t, m in link_rates(samples) if warmup < t <= down_at]
        rtts = [r[3] for r in samples if r[3] is not None]
        out[name] = {"bonded_mbit": sum(rates) / len(rates) if rates else None,
                     "rtt_p50_ms": percentile(rtts, 50)}
    return out


def load(directory):
    meta = read_json(os.path.join(directory, "meta.json"))
    for key in ("t0", "links"):
        if key not in meta:
            raise ReportError(f"{directory}/meta.json: no '{key}'")
    t0 = float(meta["t0"])
    bond_path = os.path.join(directory, "bond.json")
    bond_json = read_json(bond_path)
    single_path = os.path.join(directory, "single.json")
    return {
        "meta": meta,
        "bond": receiver_intervals(bond_json, bond_path),
        "bond_ok": "error" not in bond_json,
        "single": receiver_intervals(read_json(single_path), single_path),
        "ping": parse_ping(os.path.join(directory, "ping.txt"), t0),
        "links": parse_links(os.path.join(directory, "links.tsv"), t0,
                             meta.get("direction", "up")),
        "events": parse_events(os.path.join(directory, "events.tsv"), t0),
    }


def fmt(v, unit="", digits=1):
    return "-" if v is None else f"{v:.{digits}f}{unit}"


def text_report(s):
    lines = ["== bond demo report =="]
    links = ", ".join(f"{l['name']} {l['rate_mbit']} Mbit/s {l.get('delay_ms', 0)} ms"
                      for l in s["links"])
    lines.append(f"links: {links} (shaped sum {fmt(s['shaped_sum_mbit'])} Mbit/s); "
                 f"one TCP flow, {s['cc']}")
    lines.append(f"best single link ({s['single_link']}) through the tunnel: "
                 f"{fmt(s['single_mbit'], ' Mbit/s')}")
    ratio = "" if s["ratio"] is None else f", {s['ratio']:.2f}x the best link"
    share = 100 * s["bond_mbit"] / s["shaped_sum_mbit"] if s["bond_mbit"] else None
    lines.append(f"bonded, all links up: {fmt(s['bond_mbit'], ' Mbit/s')}{ratio}, "
                 f"{fmt(share, '%', 0)} of the shaped sum")
    if "down" in s:
        d = s["down"]
        lines.append(f"link {d['link']} down at {d['start']:.1f} s, back at "
                     f"{fmt(d['end'], ' s')}: {fmt(s['during_down_mbit'], ' Mbit/s')} while down, "
                     f"{fmt(s['after_up_mbit'], ' Mbit/s')} after; carrying again "
                     f"{fmt(s['back_after_s'], ' s', 2)} after its return")
    lines.append("flow survived the link going down: " + ("yes" if s["flow_survived"] else "NO"))
    at = "" if s["gap_at"] is None else f" at {s['gap_at']:.1f} s"
    lines.append(f"longest delivery gap (100 ms receiver intervals with nothing): "
                 f"{s['gap_s'] * 1000:.0f} ms{at}; longest ping gap "
                 f"{s['ping_gap_s'] * 1000:.0f} ms")
    lines.append(f"ping through the tunnel: idle p50 {fmt(s['ping_idle_p50_ms'], ' ms')}, "
                 f"under load p50 {fmt(s['ping_load_p50_ms'], ' ms')} p99 "
                 f"{fmt(s['ping_load_p99_ms'], ' ms')}, {s['ping_lost']} of {s['ping_sent']} lost")
    for name, f in s["per_link"].items():
        lines.append(f"  link {name}: {fmt(f['bonded_mbit'], ' Mbit/s')} while bonded, "
                     f"RTT p50 {fmt(f['rtt_p50_ms'], ' ms')}")
    return "\n".join(lines) + "\n"


class Chart:
    """An SVG line/point chart: x in seconds, one y axis, optional shaded window."""
    W, H, L, R, T, B = 760, 250, 52, 12, 22, 32

    def __init__(self, chart_id, x_max, y_max, y_label):
        self.id, self.x_max, self.y_max = chart_id, max(x_max, 1e-3), nice_ceiling(y_max)
        self.y_label, self.parts = y_label, []

    def x(self, v):
        return self.L + (v / self.x_max) * (self.W - self.L - self.R)

    def y(self, v):
        return self.H - self.B - (min(v, self.y_max) / self.y_max) * (self.H - self.T - self.B)

    def shade(self, start, end, label):
        x1, x2 = self.x(max(0.0, start)), self.x(min(self.x_max, end))
        self.parts.append(f'<rect class="down" x="{x1:.1f}" y="{self.T}" width="{x2 - x1:.1f}" '
                          f'height="{self.H - self.T - self.B}" fill="#f4b0b0" opacity="0.45">'
                          f'<title>{html.escape(label)}</title></rect>')

    def line(self, name, points, color, points_only=False):
        pts = [(t, v) for t, v in points if 0 <= t <= self.x_max]
        if points_only:
            dots = "".join(f'<circle cx="{self.x(t):.1f}" cy="{self.y(v):.1f}" r="1.6"/>'
                           for t, v in pts)
            self.parts.append(f'<g data-series="{html.escape(name)}" data-points="{len(pts)}" '
                              f'fill="{color}">{dots}</g>')
            return
        # An unknown value (None: no RTT while a link is down) breaks the line, so the chart
        # does not draw a value across a time nothing was measured.
        segments, current = [], []
        for t, v in pts:
            if v is None:
                segments, current = segments + [current], []
            else:
                current.append((t, v))
        for seg in segments + [current]:
            if not seg:
                continue
            coords = " ".join(f"{self.x(t):.1f},{self.y(v):.1f}" for t, v in seg)
            self.parts.append(f'<polyline data-series="{html.escape(name)}" '
                              f'data-points="{len(seg)}" fill="none" stroke="{color}" '
                              f'stroke-width="1.6" points="{coords}"/>')

    def ticks(self, marks, color, label):
        for t in marks:
            if 0 <= t <= self.x_max:
                self.parts.append(f'<line class="mark" x1="{self.x(t):.1f}" y1="{self.T}" '
                                  f'x2="{self.x(t):.1f}" y2="{self.T + 8}" stroke="{color}">'
                                  f'<title>{html.escape(label)}</title></line>')

    def svg(self):
        axes = [f'<line x1="{self.L}" y1="{self.H - self.B}" x2="{self.W - self.R}" '
                f'y2="{self.H - self.B}" stroke="#888"/>',
                f'<line x1="{self.L}" y1="{self.T}" x2="{self.L}" y2="{self.H - self.B}" '
                f'stroke="#888"/>']
        for i in range(5):
            v = self.y_max * i / 4
            axes.append(f'<text x="{self.L - 4}" y="{self.y(v) + 4:.1f}" text-anchor="end">'
                        f'{v:g}</text>')
        step = nice_step(self.x_max)
        t = 0.0
        while t <= self.x_max + 1e-9:
            axes.append(f'<text x="{self.x(t):.1f}" y="{self.H - self.B + 14}" '
                        f'text-anchor="middle">{t:g}</text>')
            t += step
        axes.append(f'<text x="{self.W - self.R}" y="{self.H - 4}" text-anchor="end">s</text>'
                    f'<text x="4" y="12">{html.escape(self.y_label)}</text>')
        return (f'<svg id="{self.id}" viewBox="0 0 {self.W} {self.H}" '
                f'xmlns="http://www.w3.org/2000/svg" font-size="11">'
                + "".join(axes + self.parts) + "</svg>")


def nice_ceiling(v):
    if v <= 0:
        return 1.0
    mag = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * mag:
            return m * mag
    return 10 * mag


def nice_step(span):
    return nice_ceiling(span / 8)


def buckets(intervals, width):
    """Receiver intervals summed into buckets of width seconds: [(bucket end, Mbit/s)]."""
    sums = {}
    for s, e, b in intervals:
        k = int(s // width)
        sums[k] = sums.get(k, 0) + b
    return [((k + 1) * width, b * 8 / width / 1e6) for k, b in sorted(sums.items())]


def throughput_chart(d, s):
    agg = buckets(d["bond"], THROUGHPUT_BUCKET_S)
    per_link = {n: link_rates(v) for n, v in d["links"].items()}
    peak = max([v for _, v in agg] + [v for r in per_link.values() for _, v in r] + [1.0])
    c = Chart("chart-throughput", s["duration_s"], peak * 1.05, "Mbit/s")
    shade_down(c, s)
    c.line("aggregate", agg, "#222")
    for i, (name, rates) in enumerate(sorted(per_link.items())):
        c.line(name, rates, COLORS[i % len(COLORS)])
    return c.svg()


def ping_chart(d, s):
    replies, lost, _ = d["ping"]
    points = [(t, rtt) for t, rtt, _ in replies]
    c = Chart("chart-ping", s["duration_s"], max([v for _, v in points] + [1.0]) * 1.05,
              "ping RTT ms")
    shade_down(c, s)
    c.line("ping", points, "#1f77b4", points_only=True)
    first = replies[0] if replies else None
    if first and len(replies) > 1:
        # Lost pings are marked where they were sent: seq spacing from the answered ones.
        interval = (replies[-1][0] - first[0]) / max(1, replies[-1][2] - first[2])
        c.ticks([first[0] + (q - first[2]) * interval for q in lost], "#d62728", "lost ping")
    return c.svg()


def rtt_chart(d, s):
    series = {n: [(t, r) for t, _, _, r in v] for n, v in d["links"].items()}
    known = [r for v in series.values() for _, r in v if r is not None]
    if not known:
        return None
    peak = max(known)
    c = Chart("chart-link-rtt", s["duration_s"], peak * 1.05, "path RTT ms")
    shade_down(c, s)
    for i, (name, pts) in enumerate(sorted(series.items())):
        c.line(name, pts, COLORS[i % len(COLORS)])
    return c.svg()


def shade_down(chart, s):
    if "down" in s:
        d = s["down"]
        end = d["end"] if d["end"] is not None else s["duration_s"]
        chart.shade(d["start"], end, f"link {d['link']} down")


def bar_chart(s):
    bars = [("best single link", s["single_mbit"], "#888"), ("bonded", s["bond_mbit"], "#2ca02c"),
            ("shaped sum", s["shaped_sum_mbit"], "#ccc")]
    peak = nice_ceiling(max([b[1] or 0 for b in bars] + [1.0]))
    w, h, left = 760, 30 * len(bars) + 10, 130
    parts = []
    for i, (name, v, color) in enumerate(bars):
        width = (v or 0) / peak * (w - left - 90)
        y = 8 + 30 * i
        parts.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{name}</text>'
                     f'<rect data-bar="{name}" x="{left}" y="{y}" width="{width:.1f}" height="20" '
                     f'fill="{color}"/><text x="{left + width + 6:.1f}" y="{y + 15}">'
                     f'{fmt(v, " Mbit/s")}</text>')
    return (f'<svg id="chart-bars" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg" '
            f'font-size="12">' + "".join(parts) + "</svg>")


def legend(d):
    items = ['<span style="color:#222">&#9632; aggregate (iperf3 receiver)</span>']
    for i, name in enumerate(sorted(d["links"])):
        items.append(f'<span style="color:{COLORS[i % len(COLORS)]}">&#9632; link '
                     f'{html.escape(name)}</span>')
    return " ".join(items) + ' <span style="color:#d88">&#9632; link down</span>'


def html_report(d, s):
    rows = "".join(f'<tr><th>{html.escape(k)}</th><td data-fig="{html.escape(k)}">'
                   f'{html.escape(v)}</td></tr>' for k, v in figure_rows(s))
    rtt = rtt_chart(d, s)
    rtt_part = (f"<h2>Per-path RTT (from the client daemon)</h2>{rtt}" if rtt else
                "<p>No per-path RTT was available from the daemon in this run.</p>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tquicd bond demo</title>
<style>body{{font:14px system-ui,sans-serif;margin:1.5em;max-width:820px;color:#222}}
h1{{font-size:1.4em}}h2{{font-size:1.05em;margin-top:1.5em}}svg{{width:100%;height:auto;
background:#fff;border:1px solid #ddd}}table{{border-collapse:collapse}}th,td{{padding:.2em .7em;
border-bottom:1px solid #eee;text-align:left}}.legend span{{margin-right:1em}}
pre{{white-space:pre-wrap}}</style></head>
<body><h1>tquicd bond demo</h1>
<p>One TCP flow ({html.escape(str(s['cc']))}) from the LAN through the bond, the fastest link
taken down mid-way and brought back. Times are seconds after the flow started.</p>
<table id="figures">{rows}</table>
<h2>Bonded vs the best single link</h2>{bar_chart(s)}
<h2>Throughput over time</h2><p class="legend">{legend(d)}</p>{throughput_chart(d, s)}
<h2>Ping RTT through the tunnel</h2><p>Red ticks: pings never answered.</p>{ping_chart(d, s)}
{rtt_part}
<pre id="text">{html.escape(text_report(s))}</pre>
</body></html>
"""


def figure_rows(s):
    rows = [("links", ", ".join(f"{l['name']} {l['rate_mbit']} Mbit/s" for l in s["links"])),
            ("best single link", f"{fmt(s['single_mbit'], ' Mbit/s')} ({s['single_link']})"),
            ("bonded", fmt(s["bond_mbit"], " Mbit/s")),
            ("bonded / best single", "-" if s["ratio"] is None else f"{s['ratio']:.2f}x")]
    if "down" in s:
        d = s["down"]
        rows.append(("link-down window", f"{d['link']}: {d['start']:.1f} s - {fmt(d['end'], ' s')}"))
        rows.append(("while down", fmt(s["during_down_mbit"], " Mbit/s")))
        rows.append(("carrying again after", fmt(s["back_after_s"], " s", 2)))
    rows += [("flow survived", "yes" if s["flow_survived"] else "no"),
             ("longest delivery gap", f"{s['gap_s'] * 1000:.0f} ms"),
             ("ping idle p50 / load p99", f"{fmt(s['ping_idle_p50_ms'], ' ms')} / "
                                          f"{fmt(s['ping_load_p99_ms'], ' ms')}"),
             ("pings lost", f"{s['ping_lost']} of {s['ping_sent']}")]
    return rows


def main(argv):
    p = argparse.ArgumentParser(description="the bond demo's report (docs/demo.md)")
    p.add_argument("dir")
    p.add_argument("--html", help="write the HTML page here (default DIR/report.html)")
    p.add_argument("--json", help="write the figures here (default DIR/summary.json)")
    a = p.parse_args(argv)
    try:
        d = load(a.dir)
        s = summarize(d)
        page = html_report(d, s)
    except (ReportError, KeyError, TypeError, ValueError) as e:
        print(f"report: {e}", file=sys.stderr)
        return 1
    html_path = a.html or os.path.join(a.dir, "report.html")
    json_path = a.json or os.path.join(a.dir, "summary.json")
    with open(html_path, "w", encoding="utf-8") as f:
        f.write(page)
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(s, f, indent=1)
    sys.stdout.write(text_report(s))
    print(f"report: {os.path.abspath(html_path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
