"""Starts `flagcore serve` (the binary named by FLAGCORE_BIN) on an ephemeral loopback port
for each test, with an operator token and an audit file in the test's directory."""

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("FLAGCORE_BIN", str(ROOT / "target" / "debug" / "flagcore"))
TOKEN = "s3cret-operator-token"

# Every flag type, a prerequisite that fails without the target, a rollout that needs a
# targeting key, and a key that must be percent-encoded in a URL.
SNAPSHOT = {
    "version": 1,
    "flags": {
        "bool-flag": {
            "description": "a boolean",
            "metadata": {"owner": "team-a", "ticket": "T-1", "weight": 3},
            "variants": {"on": True, "off": False}, "enabled": True, "off_variant": "off",
            "targets": [{"variant": "on", "keys": ["vip"]}],
            "fallthrough": {"variant": "off"},
        },
        "string-flag": {
            "variants": {"red": "#f00", "blue": "#00f"}, "enabled": True, "off_variant": "red",
            "fallthrough": {"variant": "blue"},
        },
        "int-flag": {
            "variants": {"small": 10, "large": 50}, "enabled": True, "off_variant": "small",
            "rules": [{"id": "de", "conditions": [{"attribute": "country", "op": "eq", "values": ["DE"]}],
                       "serve": {"variant": "large"}}],
            "fallthrough": {"variant": "small"},
        },
        "float-flag": {
            "variants": {"none": 0.0, "full": 1.0}, "enabled": True, "off_variant": "none",
            "fallthrough": {"variant": "full"},
        },
        "json-flag": {
            "variants": {"a": {"x": 1, "list": [1, 2]}, "b": {"x": 2}}, "enabled": True,
            "off_variant": "b", "fallthrough": {"variant": "a"},
        },
        "needs-key": {
            "variants": {"on": True, "off": False}, "enabled": True, "off_variant": "off",
            "fallthrough": {"rollout": {"split": [{"variant": "on", "weight": 50},
                                                  {"variant": "off", "weight": 50}]}},
        },
        "gated": {
            "variants": {"on": True, "off": False}, "enabled": True, "off_variant": "off",
            "prerequisites": [{"flag": "bool-flag", "variant": "on"}],
            "fallthrough": {"variant": "on"},
        },
        "name with spaces": {
            "variants": {"only": "yes"}, "enabled": True, "off_variant": "only",
            "fallthrough": {"variant": "only"},
        },
    },
}


class Server:
    def __init__(self, directory: Path, snapshot_text: str):
        self.dir = directory
        self.file = directory / "flags.json"
        self.file.write_text(snapshot_text)
        self.audit = directory / "audit.jsonl"
        tokens = directory / "tokens.jsonl"
        digest = hashlib.sha256(TOKEN.encode()).hexdigest()
        tokens.write_text(json.dumps({"name": "ana", "token_sha256": digest}) + "\n")
        self.log = open(directory / "server.log", "w")
        self.proc = subprocess.Popen(
            [BIN, "serve", str(self.file), "--listen", "127.0.0.1:0",
             "--tokens", str(tokens), "--audit", str(self.audit)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log, text=True,
        )
        line = self.proc.stdout.readline()
        assert line.startswith("listening on http://"), f"flagcore serve said {line!r}"
        self.url = line.split()[-1]

    def edit(self, flag: str, action: str, reason: str | None = None, token: str = TOKEN):
        body = {"reason": reason} if reason is not None else {}
        return requests.post(
            f"{self.url}/v1/flags/{requests.utils.quote(flag, safe='')}/{action}",
            json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10,
        )

    def snapshot(self) -> dict:
        return requests.get(f"{self.url}/v1/snapshot", timeout=10).json()

    def audit_lines(self) -> list[dict]:
        if not self.audit.exists():
            return []
        return [json.loads(line) for line in self.audit.read_text().splitlines()]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path, json.dumps(SNAPSHOT, indent=2))
    yield s
    s.stop()


@pytest.fixture
def example_server(tmp_path):
    """The README's example snapshot, as a newcomer would serve it."""
    s = Server(tmp_path, (ROOT / "examples" / "snapshot.json").read_text())
    yield s
    s.stop()


def until(what: str, done, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def required(what: str) -> None:
    """A missing tool: CI (where scripts/test-all.sh installs it) fails, a developer's
    machine skips."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing; scripts/test-all.sh installs it in CI")
    pytest.skip(f"{what} is missing")
