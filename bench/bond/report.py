#!/usr/bin/env python3
"""Turns bench/bond.sh's raw measurements into docs/bench/bond.json, docs/bench/bond.md and
the "WAN bonding" section of docs/BENCHMARKS.md.

Ratios are computed within each run (the runs share one topology and one load), then the
median over runs is taken; a row's goal is judged on that median.
"""
import argparse
import json
import statistics
import sys

BEGIN = "<!-- bench/bond.sh: begin (generated; do not edit) -->"
END = "<!-- bench/bond.sh: end -->"


def per_run(raw):
    runs = {}
    for line in raw:
        if line.strip():
            m = json.loads(line)
            runs.setdefault(m["run"], {})[m["key"]] = m["value"]
    return [runs[r] for r in sorted(runs)]


def links(meta):
    out = []
    for spec in meta["links"].split():
        name, rate, delay = spec.split(":")
        out.append((name, float(rate), float(delay)))
    return out


def div(a, b):
    return None if a is None or not b else a / b


def pct(a, b):
    v = div(a, b)
    return None if v is None else 100 * v


def sum_keys(r, keys):
    vals = [r.get(k) for k in keys]
    return None if any(v is None for v in vals) else sum(vals)


def row_defs(meta):
    """(what, unit, goal text, per-run function, goal predicate or None) per row."""
    ls = links(meta)
    return (throughput_rows(ls) + failover_rows(ls) + latency_rows(ls) + mptcp_rows(ls) +
            server_rows(int(meta.get("idle_clients", "100"))))


def throughput_rows(ls):
    names = [n for n, _, _ in ls]
    shaped = sum(rate for _, rate, _ in ls)
    rows = []
    for cc in ("cubic", "bbr"):
        single = [f"single_{n}_{cc}_mbps" for n in names]
        rows += [
            (f"one TCP flow ({cc.upper()}) through the bond", "Mbit/s", "",
             lambda r, cc=cc: r.get(f"bond_{cc}_mbps"), None),
            (f"  sum of the single-link tunnel goodputs ({cc.upper()})", "Mbit/s", "",
             lambda r, s=single: sum_keys(r, s), None),
            (f"  one TCP flow ({cc.upper()}): % of the single-link sum", "%", ">= 90 %",
             lambda r, cc=cc, s=single: pct(r.get(f"bond_{cc}_mbps"), sum_keys(r, s)),
             lambda v: v >= 90),
            (f"  one TCP flow ({cc.upper()}): % of the shaped sum ({shaped:g} Mbit/s)", "%",
             "(mqvpn: 67 %)", lambda r, cc=cc: pct(r.get(f"bond_{cc}_mbps"), shaped), None),
        ]
    cubic_single = [f"single_{n}_cubic_mbps" for n in names]
    rows += [
        ("16 TCP flows (CUBIC) through the bond", "Mbit/s", "",
         lambda r: r.get("bond_16_cubic_mbps"), None),
        ("  16 flows: % of the single-link sum (CUBIC, one flow each)", "%", ">= 90 %",
         lambda r: pct(r.get("bond_16_cubic_mbps"), sum_keys(r, cubic_single)),
         lambda v: v >= 90),
        (f"UDP at 95 % of {shaped:g} Mbit/s: delivered", "%", ">= 90 %",
         lambda r: r.get("udp_delivered_pct"), lambda v: v >= 90),
    ]
    return rows


def failover_rows(ls):
    # The goal: the surviving (second) link's RTT + 100 ms.
    slow_rtt = 2 * ls[1][2] if len(ls) > 1 else 0
    rows = []
    for case, text in (("fast_blackhole", "fastest link blackholed (not the handshake link)"),
                       ("fast_carrier", "fastest link carrier down (not the handshake link)"),
                       ("master_blackhole", "handshake link (fastest) blackholed"),
                       ("master_carrier", "handshake link (fastest) carrier down")):
        goal = slow_rtt + 100
        rows += [
            (f"{text}: longest delivery gap", "ms", f"<= {goal:g} ms",
             lambda r, c=case: r.get(f"failover_{c}_longest_gap_ms"), lambda v, g=goal: v <= g),
            ("  the probe sender's own longest pause (machine load)", "ms", "",
             lambda r, c=case: r.get(f"failover_{c}_probe_send_pause_ms"), None),
            ("  long-lived inner TCP connections still answering", "of 64", "64",
             lambda r, c=case: r.get(f"failover_{c}_echo_answered"), lambda v: v >= 64),
            ("  bulk flow completed (runs)", "fraction", "1",
             lambda r, c=case: r.get(f"failover_{c}_bulk_completed"), lambda v: v >= 1),
            ("  link back: carrying traffic after", "ms", "<= 2000 ms",
             lambda r, c=case: r.get(f"failover_{c}_return_ms"), lambda v: v <= 2000),
        ]
    return rows


def latency_rows(ls):
    first_delay = ls[0][2]
    single = [f"single_{n}_cubic_mbps" for n, _, _ in ls]
    return [
        ("idle tunnel ping p50", "ms", "", lambda r: r.get("idle_tunnel_ping_p50_ms"), None),
        (f"  added over the link RTT (2 x {first_delay:g} ms + bare path p50)", "ms", "<= 1 ms",
         lambda r: None if r.get("idle_tunnel_ping_p50_ms") is None or
         r.get("bare_link_ping_p50_ms") is None else
         r["idle_tunnel_ping_p50_ms"] - r["bare_link_ping_p50_ms"] - 2 * first_delay,
         lambda v: v <= 1),
        ("ping p99 under one CUBIC flow (links' rates unknown to tquicd)", "ms", "",
         lambda r: r.get("loaded_ping_p99_ms"), None),
        ("  p99 under load / idle p50", "x", "<= 2",
         lambda r: div(r.get("loaded_ping_p99_ms"), r.get("idle_tunnel_ping_p50_ms")),
         lambda v: v <= 2),
        ("ping p99 under one CUBIC flow, links' rate set to 95 % of the shaped rate", "ms", "",
         lambda r: r.get("paced_loaded_ping_p99_ms"), None),
        ("  p99 under load / idle p50 (same configuration)", "x", "<= 2",
         lambda r: div(r.get("paced_loaded_ping_p99_ms"), r.get("paced_idle_ping_p50_ms")),
         lambda v: v <= 2),
        ("  the flow's goodput: % of the single-link sum (CUBIC)", "%", "reported",
         lambda r: pct(r.get("paced_cubic_mbps"), sum_keys(r, single)), None),
        ("one unshaped link, one TCP flow (no emulator)", "Mbit/s", ">= 1000",
         lambda r: r.get("unshaped_mbps"), lambda v: v >= 1000),
        ("  client daemon CPU per GB", "s/GB", "recorded",
         lambda r: r.get("unshaped_client_cpu_s_per_gb"), None),
        ("  server daemon CPU per GB", "s/GB", "recorded",
         lambda r: r.get("unshaped_server_cpu_s_per_gb"), None),
    ]


def mptcp_rows(ls):
    names = [n for n, _, _ in ls]
    tcp = [f"tcp_direct_{n}_mbps" for n in names]
    tq = [f"tquicd_direct_{n}_mbps" for n in names]
    return [
        ("kernel MPTCP, one flow, shaped links without delay", "Mbit/s", "",
         lambda r: r.get("mptcp_bond_mbps"), None),
        ("  MPTCP efficiency (÷ sum of plain TCP per link)", "%", "",
         lambda r: pct(r.get("mptcp_bond_mbps"), sum_keys(r, tcp)), None),
        ("tquicd bond, same links, same method", "Mbit/s", "",
         lambda r: r.get("tquicd_direct_bond_mbps"), None),
        ("  tquicd efficiency (÷ sum of tquicd single links)", "%", ">= MPTCP's",
         lambda r: pct(r.get("tquicd_direct_bond_mbps"), sum_keys(r, tq)), None),
        ("  tquicd efficiency minus MPTCP's", "points", ">= 0",
         lambda r: None if pct(r.get("tquicd_direct_bond_mbps"), sum_keys(r, tq)) is None or
         pct(r.get("mptcp_bond_mbps"), sum_keys(r, tcp)) is None else
         pct(r["tquicd_direct_bond_mbps"], sum_keys(r, tq)) -
         pct(r["mptcp_bond_mbps"], sum_keys(r, tcp)), lambda v: v >= 0),
        ("  tunnel overhead: tquicd single links ÷ plain TCP single links", "%", "reported",
         lambda r: pct(sum_keys(r, tq), sum_keys(r, tcp)), None),
    ]


def server_rows(idle):
    return [
        ("one BBR flow while 10,000 garbage datagrams hit the server's port", "Mbit/s", "",
         lambda r: r.get("garbage_mbps"), None),
        ("  ÷ the same flow just before", "%", ">= 90 %",
         lambda r: pct(r.get("garbage_mbps"), r.get("garbage_ref_mbps")), lambda v: v >= 90),
        ("  garbage datagrams sent", "", "10000", lambda r: r.get("garbage_sent"),
         lambda v: v >= 10000),
        ("  clients the server holds afterwards (the bond's own)", "", "1",
         lambda r: r.get("garbage_server_clients_after"), lambda v: v == 1),
        ("  server resident memory growth over the garbage", "MiB", "reported",
         lambda r: r.get("garbage_server_rss_growth_mib"), None),
        (f"server with {idle} idle clients: resident memory", "MiB", "<= 64 MiB",
         lambda r: r.get("idle_server_rss_mib"), lambda v: v <= 64),
        ("  clients connected", "", str(idle), lambda r: r.get("idle_clients_connected"),
         lambda v, n=idle: v >= n),
        ("  server resident memory with none", "MiB", "reported",
         lambda r: r.get("idle_server_rss_base_mib"), None),
        ("  one idle client daemon's resident memory", "MiB", "reported",
         lambda r: r.get("idle_client_rss_mib"), None),
    ]


def evaluate(runs, meta):
    out = []
    for what, unit, goal, fn, ok in row_defs(meta):
        vals = []
        for r in runs:
            try:
                vals.append(fn(r))
            except (TypeError, KeyError):
                vals.append(None)
        present = [v for v in vals if v is not None]
        if not present:
            continue
        med = statistics.median(present)
        met = None if ok is None else bool(ok(med))
        out.append({"what": what, "unit": unit, "goal": goal, "median": round(med, 2),
                    "runs": [None if v is None else round(v, 2) for v in vals], "met": met})
    return out


def markdown(rows, meta):
    lines = [
        "| what | median | runs | goal | met |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        runs = ", ".join("–" if v is None else f"{v:g}" for v in r["runs"])
        met = {None: "", True: "yes", False: "**no**"}[r["met"]]
        lines.append(f"| {r['what']} | {r['median']:g} {r['unit']} | {runs} | {r['goal']} | {met} |")
    head = [
        f"Command: `{meta['command']}`; commit {meta['commit']}; {meta['date']}; "
        f"{meta['machine']}; load average before {meta['load_before']}, after "
        f"{meta['load_after']}. Links (name:Mbit/s:one-way ms): `{meta['links']}`; "
        f"{meta['runs']} runs of {meta['secs']} s flows; median per row, ratios taken within "
        "each run.",
        "",
    ]
    return "\n".join(head + lines) + "\n"


def update_benchmarks(path, table):
    text = open(path).read()
    section = (f"{BEGIN}\n## WAN bonding (tquicd, bench/bond.sh)\n\nGenerated from "
               "[bench/bond.json](bench/bond.json); method and notes in "
               "[bench/bond.md](bench/bond.md).\n\n" + table + END)
    if BEGIN in text and END in text:
        pre = text[:text.index(BEGIN)]
        post = text[text.index(END) + len(END):]
        text = pre + section + post
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    open(path, "w").write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--benchmarks", default="")
    ap.add_argument("--meta", nargs="*", default=[])
    a = ap.parse_args()
    meta = dict(m.split("=", 1) for m in a.meta)
    runs = per_run(open(a.raw))
    rows = evaluate(runs, meta)
    json.dump({"meta": meta, "rows": rows, "raw": runs}, open(f"{a.out}/bond.json", "w"),
              indent=1)
    table = markdown(rows, meta)
    md = f"{a.out}/bond.md"
    try:
        text = open(md).read()
    except FileNotFoundError:
        text = "# bench/bond.sh results\n\n" + BEGIN + "\n" + END + "\n"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + BEGIN + "\n" + table + END + text[text.index(END) + len(END):]
    open(md, "w").write(text)
    if a.benchmarks:
        update_benchmarks(a.benchmarks, table)
    sys.stdout.write(table)


if __name__ == "__main__":
    main()
