"""Writes a large input for `flagcore analyze` (benches/README.md, "flagcore analyze"):
a snapshot whose flag `checkout` ramps `on` from 10 % to 50 % by `account`, EXPOSURES
with LINES exposure lines over UNITS units (their variants by the real bucketing,
docs/format.md §3.1, at the step in force), and OUTCOMES with one `revenue` outcome per
unit.

    python3 benches/analyze_input.py DIR [--lines 10000000] [--units 1000000]

Needs the `xxhash` package (tests/requirements.txt).
"""

import argparse
import json
import random
from pathlib import Path

import xxhash

START_MS = 1_796_083_200_000  # 2026-12-01T00:00:00Z
STEP_MS = START_MS + 86_400_000  # the 50 % step, a day later
SPAN_MS = 2 * 86_400_000


def rfc3339(ms):
    seconds, millis = divmod(ms, 1000)
    days, second = divmod(seconds, 86_400)
    # 2026-12-01 is day 20,788 of the epoch; the two days stay in December 2026.
    day = 1 + days - 20_788
    h, rest = divmod(second, 3600)
    m, s = divmod(rest, 60)
    return f"2026-12-{day:02d}T{h:02d}:{m:02d}:{s:02d}.{millis:03d}Z"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir", type=Path)
    parser.add_argument("--lines", type=int, default=10_000_000)
    parser.add_argument("--units", type=int, default=1_000_000)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    snapshot = {"version": 3, "flags": {"checkout": {
        "variants": {"off": False, "on": True}, "enabled": True, "off_variant": "off",
        "fallthrough": {"rollout": {
            "by": "account",
            "split": [{"variant": "on", "weight": 10}, {"variant": "off", "weight": 90}],
            "schedule": [{"at": rfc3339(STEP_MS), "split": [
                {"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}]}}}}}
    (args.dir / "snapshot.json").write_text(json.dumps(snapshot))
    seed = xxhash.xxh3_64_intdigest(b"checkout")
    rng = random.Random(7)
    buckets = [
        (xxhash.xxh3_64_intdigest(f"acct-{u}".encode(), seed=seed) * 100_000) >> 64
        for u in range(args.units)
    ]
    with open(args.dir / "exposures.jsonl", "w") as out:
        for i in range(args.lines):
            ms = START_MS + i * SPAN_MS // args.lines
            u = rng.randrange(args.units)
            before = ms < STEP_MS
            on = buckets[u] < (10_000 if before else 50_000)
            out.write(
                f'{{"time":"{rfc3339(ms)}","flag":"checkout","variant":"{"on" if on else "off"}",'
                f'"reason":"SPLIT","rule_index":null,"rule_id":null,"key":"user-{u}",'
                f'"unit":"acct-{u}","bucket":{buckets[u]},"version":3,'
                f'"step":{"null" if before else 0}}}\n'
            )
    with open(args.dir / "outcomes.jsonl", "w") as out:
        for u in range(args.units):
            value = rng.expovariate(0.1) * (1.1 if buckets[u] < 50_000 else 1.0)
            out.write(f'{{"unit":"acct-{u}","metric":"revenue","value":{value:.4f},'
                      f'"time":"{rfc3339(START_MS + SPAN_MS)}"}}\n')


if __name__ == "__main__":
    main()
