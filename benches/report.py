#!/usr/bin/env python3
"""Runs the criterion benches and rewrites the figures table in benches/README.md.

    python3 benches/report.py            # run the benches, then rewrite the table
    python3 benches/report.py --no-run   # rewrite the table from target/criterion as it is
    python3 benches/report.py -- --measurement-time 2   # pass options on to criterion

Medians come from criterion's estimates; peer ratios are the peer's median over
flagcore's in the same run.
"""

import datetime
import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CRITERION = ROOT / "target" / "criterion"
README = ROOT / "benches" / "README.md"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


# The groups of this crate's benches; target/criterion also holds other crates' (ffi/).
GROUPS = ("evaluate/", "metrics/", "load/", "contention/", "peers/", "flagd/")


def medians():
    out = {}
    for path in CRITERION.glob("**/new/estimates.json"):
        bench = json.loads((path.parent / "benchmark.json").read_text())
        if not bench["full_id"].startswith(GROUPS):
            continue
        estimate = json.loads(path.read_text())
        out[bench["full_id"]] = estimate["median"]["point_estimate"]
    return out


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.1f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def table(figures):
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [
        f"Measured {datetime.date.today()} on {os.cpu_count()} cores ({cpu}), "
        f"{platform.system()} {platform.release()}; criterion medians.",
        "",
        "| benchmark | median |",
        "| --- | ---: |",
    ]
    for name in sorted(k for k in figures if not k.startswith("peers/")):
        lines.append(f"| `{name}` | {fmt(figures[name])} |")
    peers = sorted({k.split("/")[1] for k in figures if k.startswith("peers/")})
    if peers:
        lines += ["", "| case | flagcore | yggdrasil | launchdarkly | yggdrasil ÷ flagcore | launchdarkly ÷ flagcore |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for case in peers:
            fc = figures.get(f"peers/{case}/flagcore")
            yg = figures.get(f"peers/{case}/yggdrasil")
            ld = figures.get(f"peers/{case}/launchdarkly")
            ratio = lambda x: f"{x / fc:.1f}×" if x and fc else "–"
            lines.append(f"| {case} | {fmt(fc)} | {fmt(yg)} | {fmt(ld)} | {ratio(yg)} | {ratio(ld)} |")
    return "\n".join(lines)


def main():
    if "--no-run" not in sys.argv:
        extra = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
        command = ["cargo", "bench", "-p", "flagcore-benches"]
        subprocess.run(command + (["--"] + extra if extra else []), cwd=ROOT, check=True)
    text = README.read_text()
    new = f"{BEGIN}\n{table(medians())}\n{END}"
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), new, text, flags=re.S)
    README.write_text(text)


if __name__ == "__main__":
    main()
