"""Nanoseconds per flag evaluation from Python: flagcore next to the engines a team would
otherwise pick from PyPI, on the same two flags and the same user.

    pip install ./flagcore-py                      # or maturin develop --release
    pip install yggdrasil-engine UnleashClient launchdarkly-server-sdk   # the peers, optional
    python flagcore-py/bench/bench.py [--number N] [--repeat R]

Flags:
  static  a boolean flag on for everyone (no targets, no rules);
  rules   3 rules, evaluated for a user whom only the third one matches:
            0. country in [DE, FR]          -> off      (does not hold: country is US)
            1. app_version semver > 9.0.0   -> on       (does not hold: 2.5.0)
            2. in segment `beta` (beta_opt_in == true) -> 50/50 rollout by key
          then a fallthrough to off.

Each engine gets the closest equivalent of both flags, loaded from local data (no server),
and the user's context built once, outside the timed call, as a service would build it
once per request. Timing is timeit's: best of --repeat runs of --number calls each. A peer
that is not installed, or fails to start offline, is reported as skipped.

Peers:
  yggdrasil-engine   Unleash's Rust engine for Python (UnleashEngine.is_enabled); Unleash
                     strategies are OR-ed and cannot serve `off`, so rule 0 is a strategy
                     whose constraint does not hold, like ours.
  UnleashClient      the Unleash Python SDK (is_enabled), bootstrapped from a dict, offline.
  launchdarkly-server-sdk  LDClient.variation; the static flag through its TestData source;
                     the rules flag through its Files source, since TestData supports
                     neither rollouts nor semver operators. Events off.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import timeit
import traceback
from collections.abc import Callable
from typing import Any

KEY = "user-42"
ATTRS: dict[str, Any] = {"country": "US", "app_version": "2.5.0", "beta_opt_in": True}

FLAGCORE_SNAPSHOT = {
    "version": 1,
    "segments": {
        "beta": {
            "rules": [
                {"conditions": [{"attribute": "beta_opt_in", "op": "eq", "values": [True]}]}
            ]
        }
    },
    "flags": {
        "static": {
            "variants": {"on": True, "off": False},
            "enabled": True,
            "off_variant": "off",
            "fallthrough": {"variant": "on"},
        },
        "rules": {
            "variants": {"on": True, "off": False},
            "enabled": True,
            "off_variant": "off",
            "rules": [
                {
                    "conditions": [{"attribute": "country", "op": "in", "values": ["DE", "FR"]}],
                    "serve": {"variant": "off"},
                },
                {
                    "conditions": [
                        {"attribute": "app_version", "op": "semver_gt", "values": ["9.0.0"]}
                    ],
                    "serve": {"variant": "on"},
                },
                {
                    "conditions": [{"in_segment": "beta"}],
                    "serve": {
                        "rollout": {
                            "split": [
                                {"variant": "on", "weight": 50},
                                {"variant": "off", "weight": 50},
                            ]
                        }
                    },
                },
            ],
            "fallthrough": {"variant": "off"},
        },
    },
}

UNLEASH_STATE = {
    "version": 1,
    "features": [
        {
            "name": "static",
            "enabled": True,
            "strategies": [{"name": "default", "parameters": {}, "constraints": []}],
        },
        {
            "name": "rules",
            "enabled": True,
            "strategies": [
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "100", "stickiness": "default", "groupId": "rules"},
                    "constraints": [
                        {"contextName": "country", "operator": "IN", "values": ["DE", "FR"]}
                    ],
                },
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "100", "stickiness": "default", "groupId": "rules"},
                    "constraints": [
                        {"contextName": "app_version", "operator": "SEMVER_GT", "value": "9.0.0"}
                    ],
                },
                {
                    "name": "flexibleRollout",
                    "parameters": {"rollout": "50", "stickiness": "userId", "groupId": "rules"},
                    "constraints": [],
                    "segments": [1],
                },
            ],
        },
    ],
    "segments": [
        {
            "id": 1,
            "constraints": [
                {"contextName": "beta_opt_in", "operator": "IN", "values": ["true"]}
            ],
        }
    ],
}
UNLEASH_CONTEXT = {
    "userId": KEY,
    "properties": {"country": "US", "app_version": "2.5.0", "beta_opt_in": "true"},
}

LD_DATA = {
    "flags": {
        "rules": {
            "key": "rules",
            "version": 1,
            "on": True,
            "variations": [True, False],
            "offVariation": 1,
            "fallthrough": {"variation": 1},
            "salt": "rules",
            "targets": [],
            "prerequisites": [],
            "rules": [
                {
                    "id": "r0",
                    "clauses": [
                        {"attribute": "country", "op": "in", "values": ["DE", "FR"], "negate": False}
                    ],
                    "variation": 1,
                },
                {
                    "id": "r1",
                    "clauses": [
                        {
                            "attribute": "app_version",
                            "op": "semVerGreaterThan",
                            "values": ["9.0.0"],
                            "negate": False,
                        }
                    ],
                    "variation": 0,
                },
                {
                    "id": "r2",
                    "clauses": [
                        {"attribute": "", "op": "segmentMatch", "values": ["beta"], "negate": False}
                    ],
                    "rollout": {
                        "variations": [
                            {"variation": 0, "weight": 50000},
                            {"variation": 1, "weight": 50000},
                        ]
                    },
                },
            ],
        }
    },
    "segments": {
        "beta": {
            "key": "beta",
            "version": 1,
            "salt": "beta",
            "included": [],
            "excluded": [],
            "rules": [
                {
                    "clauses": [
                        {"attribute": "beta_opt_in", "op": "in", "values": [True], "negate": False}
                    ]
                }
            ],
        }
    },
}

Setup = Callable[[], tuple[dict[str, str], dict[str, Any]]]
"""Returns the statement to time per flag, and info: version, globals, close."""


def setup_flagcore() -> tuple[dict[str, str], dict[str, Any]]:
    import flagcore  # noqa: F401 - used by the timed statements

    store = flagcore.Store.from_bytes(json.dumps(FLAGCORE_SNAPSHOT))
    attrs = dict(ATTRS)
    calls = {
        "static": 'store.bool("static", False, key=KEY)',
        "rules": 'store.bool("rules", False, key=KEY, attrs=attrs)',
    }
    details = store.bool_details("rules", False, key=KEY, attrs=attrs)
    assert details.reason == "SPLIT" and details.rule_index == 2, details
    return calls, {"version": flagcore.__version__, "globals": locals() | {"KEY": KEY}}


def setup_yggdrasil() -> tuple[dict[str, str], dict[str, Any]]:
    from importlib.metadata import version

    from yggdrasil_engine.engine import UnleashEngine

    engine = UnleashEngine()
    engine.take_state(json.dumps(UNLEASH_STATE))
    context = dict(UNLEASH_CONTEXT)
    static_context = {"userId": KEY}
    calls = {
        "static": 'engine.is_enabled("static", static_context)',
        "rules": 'engine.is_enabled("rules", context)',
    }
    assert engine.is_enabled("static", static_context).is_enabled
    return calls, {"version": version("yggdrasil-engine"), "globals": locals()}


def setup_unleash_client() -> tuple[dict[str, str], dict[str, Any]]:
    from importlib.metadata import version

    from UnleashClient import UnleashClient
    from UnleashClient.cache import FileCache

    cache = FileCache("flagcore-bench", directory=tempfile.mkdtemp(prefix="unleash-bench-"))
    cache.bootstrap_from_dict(UNLEASH_STATE)
    client = UnleashClient(
        url="http://127.0.0.1:9/api",  # never contacted: no registration, metrics or fetch
        app_name="flagcore-bench",
        disable_metrics=True,
        disable_registration=True,
        cache=cache,
    )
    client.initialize_client(fetch_toggles=False)
    context = dict(UNLEASH_CONTEXT["properties"], userId=KEY)  # type: ignore[arg-type]
    static_context = {"userId": KEY}
    assert client.is_enabled("static", static_context)
    calls = {
        "static": 'client.is_enabled("static", static_context)',
        "rules": 'client.is_enabled("rules", context)',
    }
    return calls, {"version": version("UnleashClient"), "close": client.destroy, "globals": locals()}


def setup_launchdarkly() -> tuple[dict[str, str], dict[str, Any]]:
    from importlib.metadata import version

    from ldclient.client import LDClient
    from ldclient.config import Config
    from ldclient.context import Context
    from ldclient.integrations import Files
    from ldclient.integrations.test_data import TestData

    td = TestData.data_source()
    td.update(td.flag("static").variation_for_all(True))
    static_client = LDClient(
        Config("sdk-key-bench", update_processor_class=td, send_events=False, diagnostic_opt_out=True),
        start_wait=5,
    )
    path = os.path.join(tempfile.mkdtemp(prefix="ld-bench-"), "flags.json")
    with open(path, "w") as file:
        json.dump(LD_DATA, file)
    rules_client = LDClient(
        Config(
            "sdk-key-bench",
            update_processor_class=Files.new_data_source(paths=[path]),
            send_events=False,
            diagnostic_opt_out=True,
        ),
        start_wait=5,
    )
    assert static_client.is_initialized() and rules_client.is_initialized()
    plain = Context.create(KEY)
    builder = Context.builder(KEY)
    for name, value in ATTRS.items():
        builder.set(name, value)
    context = builder.build()
    reason = rules_client.variation_detail("rules", context, False).reason
    assert reason.get("kind") == "RULE_MATCH" and reason.get("ruleIndex") == 2, reason
    assert static_client.variation("static", plain, False) is True
    calls = {
        "static": 'static_client.variation("static", plain, False)',
        "rules": 'rules_client.variation("rules", context, False)',
    }

    def close() -> None:
        static_client.close()
        rules_client.close()

    return calls, {"version": version("launchdarkly-server-sdk"), "close": close, "globals": locals()}


ENGINES: list[tuple[str, Setup]] = [
    ("flagcore", setup_flagcore),
    ("yggdrasil-engine", setup_yggdrasil),
    ("UnleashClient", setup_unleash_client),
    ("launchdarkly-server-sdk", setup_launchdarkly),
]


def measure(statement: str, namespace: dict[str, Any], number: int, repeat: int) -> float:
    """Best nanoseconds per execution of `statement` over `repeat` runs of `number`."""
    timer = timeit.Timer(statement, globals=namespace)
    timer.timeit(number=min(number, 1000))  # warm up
    return min(timer.repeat(number=number, repeat=repeat)) / number * 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=0, help="calls per run (default: auto)")
    parser.add_argument("--repeat", type=int, default=7, help="runs; the best counts")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    results: dict[str, dict[str, float]] = {}
    versions: dict[str, str] = {}
    skipped: dict[str, str] = {}
    for name, setup in ENGINES:
        try:
            calls, info = setup()
        except Exception as error:  # noqa: BLE001 - any failure skips the peer
            skipped[name] = f"{type(error).__name__}: {error}".splitlines()[0]
            if name == "flagcore":
                traceback.print_exc()
                return 1
            continue
        versions[name] = str(info["version"])
        results[name] = {}
        for flag, statement in calls.items():
            number = args.number or (500_000 if name == "flagcore" else 20_000)
            results[name][flag] = measure(statement, info["globals"], number, args.repeat)
        close = info.get("close")
        if callable(close):
            close()

    if args.json:
        print(json.dumps({"results": results, "versions": versions, "skipped": skipped}, indent=2))
        return 0
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"{'engine':<34} {'static':>12} {'rules':>12}   x flagcore (static / rules)")
    base = results["flagcore"]
    for name, times in results.items():
        label = f"{name} {versions[name]}"
        ratio = f"{times['static'] / base['static']:6.1f}x / {times['rules'] / base['rules']:.1f}x"
        print(f"{label:<34} {times['static']:>9.0f} ns {times['rules']:>9.0f} ns   {ratio}")
    for name, why in skipped.items():
        print(f"{name}: skipped ({why})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
