"""A bounded load measurement of `flagcore serve` on loopback with wrk: single-flag OFREP
evaluations (POST, keep-alive) and `/v1/snapshot` revalidations answered 304, each at 64
connections for a fixed time. Prints one line per scenario, and a Markdown table row with
--markdown (benches/README.md's figures come from a release build):

    python tests/serve/load.py --bin target/release/flagcore --seconds 10 --markdown
"""

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The README's example: the evaluation walks a segment rule, a prerequisite and a rollout.
CONTEXT = {"targetingKey": "u-erik", "country": "DE", "beta_opt_in": True,
           "app_version": "2.4.1", "account_id": "acct-1027"}


def parse_wrk(output: str) -> dict:
    def seconds(value: str, unit: str) -> float:
        return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]

    result = {"requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
              "requests": int(re.search(r"(\d+) requests in", output).group(1)),
              "bad_status": 0, "socket_errors": 0, "latency": {}}
    for percent, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M):
        result["latency"][percent] = seconds(value, unit)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if bad:
        result["bad_status"] = int(bad.group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if errors:
        result["socket_errors"] = sum(int(n) for n in errors.groups())
    return result


def run_wrk(url: str, lua: str, seconds: int, connections: int = 64, threads: int = 2) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
             "--latency", "-s", script.name, url],
            capture_output=True, text=True, timeout=seconds + 60, check=True,
        ).stdout
    finally:
        Path(script.name).unlink()
    return parse_wrk(out)


def measure(binary: str, seconds: int) -> dict:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is missing (apt-get install wrk)")
    with tempfile.TemporaryDirectory() as directory:
        snapshot = Path(directory) / "flags.json"
        snapshot.write_text((ROOT / "examples" / "snapshot.json").read_text())
        server = subprocess.Popen([binary, "serve", str(snapshot), "--listen", "127.0.0.1:0"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            url = server.stdout.readline().split()[-1]
            flag_url = f"{url}/ofrep/v1/evaluate/flags/new-checkout"
            body = json.dumps({"context": CONTEXT})
            request = urllib.request.Request(flag_url, data=body.encode(), method="POST",
                                             headers={"Content-Type": "application/json"})
            answer = json.load(urllib.request.urlopen(request, timeout=10))
            assert answer["variant"] == "on", answer
            etag = urllib.request.urlopen(f"{url}/v1/snapshot", timeout=10).headers["ETag"]
            ofrep = run_wrk(flag_url, "wrk.method = 'POST'\n"
                            "wrk.headers['Content-Type'] = 'application/json'\n"
                            f"wrk.body = {json.dumps(body)}\n", seconds)
            not_modified = run_wrk(f"{url}/v1/snapshot",
                                   f"wrk.headers['If-None-Match'] = {json.dumps(etag)}\n", seconds)
            # The HTTP stack alone, for comparison: a GET answered with a constant.
            baseline = run_wrk(f"{url}/healthz", "", seconds)
            alive = urllib.request.urlopen(f"{url}/healthz", timeout=10).status
            return {"ofrep": ofrep, "snapshot_304": not_modified, "healthz": baseline,
                    "alive_after": alive}
        finally:
            server.terminate()
            server.wait(timeout=10)


def describe(name: str, r: dict) -> str:
    latency = r["latency"]
    return (f"{name}: {r['requests_per_second']:,.0f} requests/s ({r['requests']:,} in total), "
            f"p50 {latency.get('50', 0) * 1e3:.2f} ms, p99 {latency.get('99', 0) * 1e3:.2f} ms, "
            f"{r['bad_status']} bad statuses, {r['socket_errors']} socket errors")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=str(ROOT / "target" / "release" / "flagcore"))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    results = measure(args.bin, args.seconds)
    print(describe("OFREP single flag, 64 connections", results["ofrep"]))
    print(describe("/v1/snapshot 304, 64 connections", results["snapshot_304"]))
    print(describe("/healthz, 64 connections", results["healthz"]))
    if args.markdown:
        for name, r in (("OFREP `POST /ofrep/v1/evaluate/flags/new-checkout`", results["ofrep"]),
                        ("`GET /v1/snapshot` with `If-None-Match` (304)", results["snapshot_304"]),
                        ("`GET /healthz` (the HTTP stack alone)", results["healthz"])):
            print(f"| {name} | {r['requests_per_second']:,.0f} | "
                  f"{r['latency']['50'] * 1e3:.2f} ms | {r['latency']['99'] * 1e3:.2f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
