#!/usr/bin/env python3
"""demo/report.py on a synthetic recording whose figures are known in advance.

The recording: links fibre 40 Mbit/s + lte 20 Mbit/s; a single-link reference flow at
36 Mbit/s; a bonded flow of 20 s at 54 Mbit/s, fibre down from 10 s to 15 s, nothing delivered
for 300 ms after the cut, 18 Mbit/s until fibre returns; pings every 100 ms (60 ms idle,
80 ms under load) with five lost right after the cut.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPORT = os.path.join(HERE, "..", "..", "demo", "report.py")
T0 = 1000.0


def intervals(spans):
    """iperf3 receiver intervals of 0.1 s from [(start, end, Mbit/s)]."""
    out, t = [], 0.0
    for start, end, mbit in spans:
        for i in range(round((end - start) * 10)):
            s = start + i / 10
            out.append({"sum": {"start": s, "end": s + 0.1, "seconds": 0.1,
                                "bytes": int(mbit * 1e6 / 8 * 0.1), "sender": False}})
    return {"start": {}, "intervals": out, "end": {},
            "server_output_json": {"start": {}, "intervals": out, "end": {}}}


BOND_SPANS = [(0, 10, 54), (10, 10.3, 0), (10.3, 15, 18), (15, 20, 54)]


def ping_lines():
    lines, seq = [], 0
    for k in range(-20, 200):
        seq += 1
        t = k / 10
        if 100 <= k < 105:
            lines.append(f"[{T0 + t + 1:.6f}] no answer yet for icmp_seq={seq}")
            continue
        rtt = 60.0 if t < 0 else 80.0
        lines.append(f"[{T0 + t + rtt / 1000:.6f}] 64 bytes from 198.19.120.1: icmp_seq={seq} "
                     f"ttl=62 time={rtt:.1f} ms")
    lines.append(f"{seq} packets transmitted, {seq - 5} received, 2.27% packet loss, time 22000ms")
    return "\n".join(lines) + "\n"


def link_rows():
    rows, fibre, lte = [], 0, 0
    for sec in range(0, 21):
        down = 10 < sec <= 15
        rtt = "-" if down else "20.5"  # no RTT while the link is down
        rows.append(f"{T0 + sec:.3f} fibre {'down' if down else 'up'} {fibre} 1000 {rtt}")
        rows.append(f"{T0 + sec:.3f} lte up {lte} 1000 -")
        fibre += 0 if 10 <= sec < 15 else 36_000_000 // 8
        lte += 18_000_000 // 8
    return "\n".join(rows) + "\n"


def write_recording(d, bond=None):
    meta = {"t0": T0, "links": [{"name": "fibre", "rate_mbit": 40, "delay_ms": 10},
                                {"name": "lte", "rate_mbit": 20, "delay_ms": 40}],
            "single_link": "fibre", "warmup": 2, "cc": "cubic", "direction": "up"}
    files = {"meta.json": json.dumps(meta),
             "single.json": json.dumps(intervals([(0, 8, 36)])),
             "bond.json": json.dumps(bond if bond is not None else intervals(BOND_SPANS)),
             "ping.txt": ping_lines(), "links.tsv": link_rows(),
             "events.tsv": f"{T0 + 10} link_down fibre\n{T0 + 15} link_up fibre\n"}
    for name, text in files.items():
        with open(os.path.join(d, name), "w", encoding="utf-8") as f:
            f.write(text)


def run(d):
    return subprocess.run([sys.executable, REPORT, d], capture_output=True, text=True,
                          timeout=30)


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="tqbd-report.")
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def report(self):
        r = run(self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.dir, "summary.json"), encoding="utf-8") as f:
            summary = json.load(f)
        with open(os.path.join(self.dir, "report.html"), encoding="utf-8") as f:
            page = f.read()
        return r.stdout, summary, page

    def test_figures(self):
        write_recording(self.dir)
        _, s, _ = self.report()
        self.assertAlmostEqual(s["single_mbit"], 36.0, places=1)
        self.assertAlmostEqual(s["bond_mbit"], 54.0, places=1)  # 2 s to the cut
        self.assertAlmostEqual(s["ratio"], 1.5, places=2)
        self.assertTrue(s["bond_beats_single"])
        self.assertEqual(s["shaped_sum_mbit"], 60.0)
        self.assertEqual(s["down"], {"link": "fibre", "start": 10.0, "end": 15.0})
        self.assertAlmostEqual(s["during_down_mbit"], 18 * 4.7 / 5, places=1)
        self.assertAlmostEqual(s["after_up_mbit"], 54.0, places=1)
        self.assertAlmostEqual(s["gap_s"], 0.3, places=3)
        self.assertAlmostEqual(s["gap_at"], 10.0, places=3)
        self.assertTrue(s["flow_survived"])
        self.assertEqual(s["back_after_s"], 1.0)  # first 1 s sample after the return
        self.assertEqual((s["ping_sent"], s["ping_lost"]), (220, 5))
        self.assertEqual(s["ping_idle_p50_ms"], 60.0)
        self.assertEqual(s["ping_load_p99_ms"], 80.0)
        self.assertAlmostEqual(s["ping_gap_s"], 0.6, places=2)  # 5 lost at 100 ms
        self.assertAlmostEqual(s["per_link"]["fibre"]["bonded_mbit"], 36.0, places=1)
        self.assertAlmostEqual(s["per_link"]["lte"]["bonded_mbit"], 18.0, places=1)
        self.assertEqual(s["per_link"]["fibre"]["rtt_p50_ms"], 20.5)
        self.assertIsNone(s["per_link"]["lte"]["rtt_p50_ms"])

    def test_text_names_the_figures(self):
        write_recording(self.dir)
        out, _, _ = self.report()
        self.assertIn("best single link (fibre) through the tunnel: 36.0 Mbit/s", out)
        self.assertIn("bonded, all links up: 54.0 Mbit/s, 1.50x the best link, 90% of the "
                      "shaped sum", out)
        self.assertIn("link fibre down at 10.0 s, back at 15.0 s", out)
        self.assertIn("flow survived the link going down: yes", out)
        self.assertIn("longest delivery gap (100 ms receiver intervals with nothing): 300 ms "
                      "at 10.0 s", out)
        self.assertIn("5 of 220 lost", out)
        self.assertRegex(out, r"report: .*report\.html")

    def test_html_has_the_charts_and_figures(self):
        write_recording(self.dir)
        _, _, page = self.report()
        for chart in ("chart-bars", "chart-throughput", "chart-ping", "chart-link-rtt"):
            self.assertIn(f'<svg id="{chart}"', page)
        # 20 s of goodput in 0.5 s buckets; 20 rates per link from 21 samples.
        self.assertRegex(page, r'<polyline data-series="aggregate" data-points="40"')
        self.assertRegex(page, r'<polyline data-series="fibre" data-points="20"')
        self.assertRegex(page, r'<polyline data-series="lte" data-points="20"')
        # The 20 idle pings before the flow's start are left out of the chart (x from 0).
        self.assertRegex(page, r'<g data-series="ping" data-points="195"')
        # The link-down window is shaded in the three time charts, the lost pings marked.
        self.assertEqual(page.count('<rect class="down"'), 3)
        self.assertEqual(page.count('<line class="mark"'), 5)
        self.assertIn('<td data-fig="bonded">54.0 Mbit/s</td>', page)
        self.assertIn('<td data-fig="best single link">36.0 Mbit/s (fibre)</td>', page)
        self.assertIn('<td data-fig="bonded / best single">1.50x</td>', page)
        self.assertIn('<td data-fig="longest delivery gap">300 ms</td>', page)
        self.assertIn('<td data-fig="link-down window">fibre: 10.0 s - 15.0 s</td>', page)
        self.assertRegex(page, r'data-bar="bonded" x="130" y="\d+" width="[1-9]')
        # Self-contained: no script, no external resource.
        # The fibre's RTT line breaks where it was unknown (11-15 s): 0-10 s and 16-20 s;
        # the LTE link never had one, so it has no line.
        rtt = page[page.index('<svg id="chart-link-rtt"'):]
        rtt = rtt[:rtt.index("</svg>")]
        self.assertEqual(re.findall(r'data-series="(\w+)" data-points="(\d+)"', rtt),
                         [("fibre", "11"), ("fibre", "5")])
        self.assertNotIn("<script", page)
        self.assertIsNone(re.search(r'(src|href)=', page))

    def test_failed_flow_is_reported(self):
        bond = intervals([(0, 10, 54), (10, 20, 0)])
        bond["error"] = "control socket has closed unexpectedly"
        write_recording(self.dir, bond)
        out, s, _ = self.report()
        self.assertFalse(s["flow_survived"])
        self.assertIn("flow survived the link going down: NO", out)
        self.assertAlmostEqual(s["gap_s"], 10.0, places=3)

    def test_bad_recordings_name_the_file(self):
        write_recording(self.dir, {"intervals": []})
        r = run(self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bond.json: no server_output_json", r.stderr)
        write_recording(self.dir)
        with open(os.path.join(self.dir, "links.tsv"), "a", encoding="utf-8") as f:
            f.write("1021.0 fibre up 12\n")
        r = run(self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("links.tsv:43: want 6 fields", r.stderr)
        os.remove(os.path.join(self.dir, "meta.json"))
        r = run(self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn("meta.json", r.stderr)


if __name__ == "__main__":
    unittest.main()
