"""A bounded load test on loopback (wrk, a few seconds per scenario, 64 connections): the
server answers every request of a sustained load, with no error status and no socket
error, and stays up. The figures in benches/README.md come from `load.py` on a release
build; this checks that the load runs and the server survives it."""

import os
import shutil

from conftest import BIN, required
import load

SECONDS = int(os.environ.get("FLAGCORE_LOAD_SECONDS", "3"))


def test_sustained_load_is_served_without_errors():
    if not shutil.which("wrk"):
        required("wrk (apt-get install wrk)")
    results = load.measure(BIN, SECONDS)
    for name in ("ofrep", "snapshot_304", "healthz"):
        r = results[name]
        print(load.describe(name, r))
        assert r["bad_status"] == 0, (name, r)
        assert r["socket_errors"] == 0, (name, r)
        # Even a debug build on a loaded 2-core machine does more than this.
        assert r["requests_per_second"] > 200, (name, r)
    assert results["alive_after"] == 200
