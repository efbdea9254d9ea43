#!/usr/bin/env python3
"""flagd flags through flagcore's Python binding beside flagd's own in-process evaluator
for Python (`openfeature-flagd-core`, which flagd's Python provider evaluates with).

    python3 -m venv /tmp/flagd-peers && /tmp/flagd-peers/bin/pip install openfeature-flagd-core
    maturin develop --release -m flagcore-py/Cargo.toml    # or pip install the wheel
    /tmp/flagd-peers/bin/python benches/flagd_peers.py

Both evaluate the document of benches/benches/flagd.rs (benches/support/flagd.json) with the same context; the script
stops unless they give the same answers (except `fractional`, see below), then prints the
best of five timings per call for each flag. Not run in CI: it measures.

`openfeature-flagd-core` 2.x buckets `fractional` by the CBOR encoding of the key (flagd's
newer "v3" bucketing, not yet the default elsewhere); flagcore buckets as flagd does today
("v2", docs/format.md §9.4.2), so the two place users differently and that flag's answers
are not compared.
"""

import json
import sys
import timeit
from pathlib import Path

import flagcore
from openfeature.contrib.tools.flagd.core.flagd_core import FlagdCore
from openfeature.evaluation_context import EvaluationContext

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = (ROOT / "benches" / "support" / "flagd.json").read_text()

KEY = "user-17"
ATTRS = {"user.name": "jack", "app_version": "2.5.1", "tier": "premium", "score": 95}
NESTED = {"user": {"name": "jack"}, "app_version": "2.5.1", "tier": "premium", "score": 95}
FLAGS = {"fractional": "string", "sem_ver": "bool", "if-chain": "string", "static": "bool"}


def main() -> int:
    store = flagcore.Store.from_bytes(DOCUMENT)
    core = FlagdCore()
    core.set_flags(json.loads(DOCUMENT))
    ctx = EvaluationContext(targeting_key=KEY, attributes=NESTED)

    def ours(flag, kind):
        if kind == "bool":
            return lambda: store.bool_details(flag, False, key=KEY, attrs=ATTRS)
        return lambda: store.string_details(flag, "?", key=KEY, attrs=ATTRS)

    def theirs(flag, kind):
        if kind == "bool":
            return lambda: core.resolve_boolean_value(flag, False, ctx)
        return lambda: core.resolve_string_value(flag, "?", ctx)

    for flag, kind in FLAGS.items():
        a, b = ours(flag, kind)(), theirs(flag, kind)()
        if flag != "fractional" and (a.value, a.variant) != (b.value, b.variant):
            print(f"{flag}: flagcore {a.value!r}/{a.variant} but flagd {b.value!r}/{b.variant}")
            return 1

    print(f"{'flag':<12} {'flagcore':>12} {'flagd-core':>12} {'ratio':>8}")
    for flag, kind in FLAGS.items():
        times = []
        for call in (ours(flag, kind), theirs(flag, kind)):
            number = 20_000 if call is not None else 0
            best = min(timeit.repeat(call, number=number, repeat=5)) / number
            times.append(best)
        print(f"{flag:<12} {times[0] * 1e9:>10.0f}ns {times[1] * 1e9:>10.0f}ns {times[1] / times[0]:>7.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
