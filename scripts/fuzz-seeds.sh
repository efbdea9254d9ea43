#!/usr/bin/env bash
# Seeds the fuzz corpora: every vector snapshot, the example and the malformed corpus go to
# `loader`; the example goes to `updates` as raw bytes too; the flagd conformance file to
# `loader`, and its targetings to `flagd`. Corpora are not committed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p fuzz/corpus/loader fuzz/corpus/evaluate fuzz/corpus/updates fuzz/corpus/flagd
cp examples/snapshot.json fuzz/corpus/loader/example.json
cp tests/flagd/flags.json fuzz/corpus/loader/flagd-conformance.json
python3 - <<'PY'
import json, pathlib
out = pathlib.Path("fuzz/corpus/loader")
for path in sorted(pathlib.Path("tests/vectors").glob("*.json")):
    doc = json.loads(path.read_text())
    if doc["snapshot"] is not None:
        (out / f"vector-{path.stem}.json").write_text(json.dumps(doc["snapshot"]))
cases = json.loads(pathlib.Path("tests/malformed/cases.json").read_text())["cases"]
for i, case in enumerate(cases):
    (out / f"malformed-{i:03}.json").write_text(case["document"])
flags = json.loads(pathlib.Path("tests/flagd/flags.json").read_text())["flags"]
for name, flag in flags.items():
    if "targeting" in flag:
        (pathlib.Path("fuzz/corpus/flagd") / f"{name}.json").write_text(json.dumps(flag["targeting"]))
PY
