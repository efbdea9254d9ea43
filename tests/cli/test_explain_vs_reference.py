"""`flagcore explain --json` agrees with the independent Python reference evaluator
(tests/vectors/reference.py) on hundreds of random contexts, over the example snapshot
and the vector snapshots (which together use every feature of docs/format.md §2), half of them
evaluated `--now` at an instant on, just before or just after a schedule step."""

import json
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "vectors"))
import reference  # noqa: E402

BIN = os.environ.get("FLAGCORE_BIN", str(ROOT / "target" / "debug" / "flagcore"))
KIND_TO_TYPE = {"bool": "bool", "string": "string", "int": "int", "float": "float", "json": "json"}


def snapshots():
    yield "example", (ROOT / "examples" / "snapshot.json").read_text()
    for path in sorted((ROOT / "tests" / "vectors").glob("*.json")):
        doc = json.loads(path.read_text())
        if doc["snapshot"] is not None:
            yield path.stem, json.dumps(doc["snapshot"])


def walk(value, found):
    """Collects clause attributes and their values, keys named anywhere, and the
    instants of schedule steps (under the name `@at`)."""
    if isinstance(value, dict):
        if isinstance(value.get("at"), str) and "split" in value:
            found.setdefault("@at", []).append(value["at"])
        if "attribute" in value and "op" in value:
            found.setdefault(value["attribute"], []).extend(value.get("values", []))
        for k in ("include", "exclude", "keys"):
            if isinstance(value.get(k), list):
                found.setdefault("key", []).extend(value[k])
        for k in ("by",):
            if isinstance(value.get(k), str):
                found.setdefault(value[k], [])
        for v in value.values():
            walk(v, found)
    elif isinstance(value, list):
        for v in value:
            walk(v, found)


def cli_safe(v):
    """A value the CLI's NAME=VALUE reading gives back as the same typed value."""
    if isinstance(v, bool) or isinstance(v, int):
        return True
    if isinstance(v, float):
        return repr(v) == str(v) and "e" not in repr(v)
    if isinstance(v, str):
        try:
            json.loads(v)
            return False  # would be read as a number or boolean (or is JSON text)
        except ValueError:
            return v != "" and "=" not in v.split("=", 1)[0]
    return False


def variants_of(values, rng):
    out = []
    for v in values:
        out.append(v)
        if isinstance(v, bool):
            out.append(not v)
        elif isinstance(v, int):
            out += [v - 1, v + 1, float(v)]
        elif isinstance(v, float):
            out += [v + 0.5, v - 0.25]
        elif isinstance(v, str):
            out += [v + "x", "x" + v, v.upper()]
    out += [rng.randint(-5, 100), f"user-{rng.randint(0, 10_000)}", rng.random() < 0.5]
    return [v for v in out if cli_safe(v)]


def random_context(pool, rng):
    ctx = {"attributes": {}}
    if rng.random() < 0.92:
        keys = [k for k in pool.get("key", []) if isinstance(k, str)]
        ctx["key"] = rng.choice(keys) if keys and rng.random() < 0.3 else f"user-{rng.randint(0, 99_999)}"
        if not cli_safe(ctx["key"]):
            ctx["key"] = f"user-{rng.randint(0, 99_999)}"
    for name, values in pool.items():
        if name == "key" or rng.random() < 0.25:
            continue
        choices = variants_of(values, rng)
        if choices:
            ctx["attributes"][name] = rng.choice(choices)
    return ctx


def random_now(pool, rng):
    """An RFC 3339 instant: a schedule step's, one nearby (to the second or nanosecond), or
    any time in 1990..3000; as text with a random offset, and as Unix nanoseconds."""
    steps = [reference.parse_rfc3339(at) for at in pool.get("@at", [])]
    lo, hi = reference.parse_rfc3339("1990-01-01T00:00:00Z"), reference.parse_rfc3339("3000-01-01T00:00:00Z")
    if steps and rng.random() < 0.8:
        ns = rng.choice(steps) + rng.choice([0, 0, -1, 1, -1_000_000_000, 1_000_000_000])
    else:
        ns = rng.randrange(lo, hi)
    minutes = rng.choice([0, 60, -330, 840])
    seconds, nanos = divmod(ns, 1_000_000_000)
    local = datetime(1970, 1, 1) + timedelta(seconds=seconds, minutes=minutes)
    sign, magnitude = ("+" if minutes >= 0 else "-"), abs(minutes)
    zone = "Z" if minutes == 0 else f"{sign}{magnitude // 60:02d}:{magnitude % 60:02d}"
    text = local.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}{zone}"
    return text, ns


def as_plain(v):
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, dict):
        return {k: as_plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [as_plain(x) for x in v]
    return v


def explain(path, flag, ctx, now=None):
    args = [BIN, "explain", str(path), flag, "--json"]
    if now is not None:
        args += ["--now", now]
    if "key" in ctx:
        args += ["--key", ctx["key"]]
    for name, value in ctx["attributes"].items():
        text = json.dumps(value) if not isinstance(value, str) else value
        args += ["--attr", f"{name}={text}"]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("name,text", list(snapshots()), ids=lambda x: x if len(x) < 30 else None)
def test_explain_json_matches_reference(tmp_path, name, text):
    assert Path(BIN).exists(), f"build the CLI first ({BIN})"
    path = tmp_path / "snapshot.json"
    path.write_text(text)
    snap = reference.load(text)
    pool = {}
    walk(json.loads(text), pool)
    rng = random.Random(f"explain-{name}")
    flags = sorted(snap.flags)
    for _ in range(80):
        flag = rng.choice(flags)
        ctx = random_context(pool, rng)
        now_text, now_ns = random_now(pool, rng) if rng.random() < 0.5 else (None, None)
        got = explain(path, flag, ctx, now_text)
        kind = snap.flags[flag]["kind"]
        want = as_plain(reference.evaluate(snap, set(), flag, KIND_TO_TYPE[kind], None, ctx,
                                           now_ns))
        assert set(got) == {"flag", "value", "variant", "reason", "error_code",
                            "rule_index", "rule_id", "target", "bucket", "step"}
        assert got.pop("flag") == flag
        if isinstance(want["value"], (int, float)) and not isinstance(want["value"], bool):
            assert got["value"] == pytest.approx(want["value"]), (flag, ctx)
            got["value"] = want["value"]
        assert got == want, (flag, ctx, now_text)
