"""`flagcore analyze` against an independent computation (docs/format.md §7.9).

An experiment is generated with known effects: units are evaluated by the independent
reference evaluator (tests/vectors/reference.py) at each exposure's instant, across a
schedule step and two rollouts, so the split is as faithful as the engine's; some units
cross the step into another variant (excluded), some are targeted (analysed, but not
in the sample-ratio check). Outcomes come before and after first exposures, in two
metrics. The expected report is computed here with NumPy and SciPy
(`ttest_ind(equal_var=False)`, `chisquare`), then compared with the CLI's `--json`.
A second experiment loses a fifth of one variant's exposures: a broken split that must
exit 3. Last, the `--html` report is rendered in headless Chromium and screenshotted.
"""

import json
import os
import random
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "vectors"))
import reference  # noqa: E402

BIN = os.environ.get("FLAGCORE_BIN", str(ROOT / "target" / "debug" / "flagcore"))

START = datetime(2026, 12, 1, tzinfo=timezone.utc)
STEP_AT = START + timedelta(days=1)
# Per-unit revenue: each outcome is exponential with this mean; `on` truly earns more.
OUTCOME_MEAN = {"off": 10.0, "on": 13.0, "green": 10.0}
EVENTS_MEAN = 1.5  # outcomes per unit after its first exposure (0..3, uniform)
TRUE_EFFECT = {v: EVENTS_MEAN * (m - OUTCOME_MEAN["off"]) for v, m in OUTCOME_MEAN.items()}

SNAPSHOT = {
    "version": 12,
    "flags": {
        "checkout": {
            "variants": {"off": "old", "on": "new", "green": "green"},
            "enabled": True,
            "off_variant": "off",
            "rules": [
                {"id": "staff", "conditions": [{"attribute": "staff", "op": "eq", "values": [True]}],
                 "serve": {"variant": "on"}},
                {"id": "de", "conditions": [{"attribute": "country", "op": "eq", "values": ["DE"]}],
                 "serve": {"rollout": {"by": "account", "split": [
                     {"variant": "on", "weight": 50}, {"variant": "off", "weight": 50}]}}},
            ],
            "fallthrough": {"rollout": {
                "by": "account",
                "split": [{"variant": "on", "weight": 10}, {"variant": "green", "weight": 10},
                          {"variant": "off", "weight": 80}],
                "schedule": [{"at": STEP_AT.strftime("%Y-%m-%dT%H:%M:%SZ"), "split": [
                    {"variant": "on", "weight": 34}, {"variant": "green", "weight": 33},
                    {"variant": "off", "weight": 33}]}],
            }},
        },
    },
}


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def ns(t):
    return int(t.timestamp()) * 10**9 + t.microsecond * 1000


def generate(directory, units=6000, seed=15, lose=None):
    """Writes snapshot.json, exposures.jsonl and outcomes.jsonl; `lose` = (variant,
    fraction) drops all exposures of that share of the units first served that variant."""
    rng = random.Random(seed)
    snap = reference.load(json.dumps(SNAPSHOT))
    exposures, outcomes = [], []
    for i in range(units):
        # Half the accounts are integers: the exposure writes the unit as a number, the
        # outcomes as its decimal string.
        account = 100_000 + i if i % 2 else f"acct-{i}"
        attrs = {"account": account, "country": "DE" if rng.random() < 0.2 else "FR",
                 "staff": rng.random() < 0.02}
        ctx = {"key": f"user-{i}", "attributes": attrs}
        first = START + timedelta(seconds=rng.uniform(0, 2 * 86400))
        times = [first] + [first + timedelta(seconds=rng.uniform(0, 86400))
                           for _ in range(rng.randint(0, 3))]
        lines, seen = [], []
        for t in times:
            t = t.replace(microsecond=t.microsecond // 1000 * 1000)
            d = reference.evaluate(snap, {}, "checkout", "string", "?", ctx, now_ns=ns(t))
            seen.append(d["variant"])
            lines.append(json.dumps({
                "time": rfc3339(t), "flag": "checkout", "variant": d["variant"],
                "reason": d["reason"], "rule_index": d["rule_index"], "rule_id": d["rule_id"],
                "key": ctx["key"], "unit": account if d["reason"] == "SPLIT" else ctx["key"],
                "bucket": d["bucket"], "version": 12, "step": d["step"],
            }))
        if lose and seen[0] == lose[0] and rng.random() < lose[1]:
            continue
        exposures.extend(lines)
        unit = str(account) if seen[0] and json.loads(lines[0])["reason"] == "SPLIT" else ctx["key"]
        # Outcomes before the first exposure are not the experiment's doing.
        for _ in range(rng.randint(0, 2)):
            outcomes.append((unit, "revenue", rng.uniform(0, 50), first - timedelta(hours=rng.uniform(0.01, 48))))
        for _ in range(rng.randint(0, 3)):
            mean = OUTCOME_MEAN[seen[0]]
            outcomes.append((unit, "revenue", rng.expovariate(1 / mean), first + timedelta(hours=rng.uniform(0, 72))))
        outcomes.append((unit, "clicks", float(rng.randint(0, 5)), first + timedelta(hours=1)))
    rng.shuffle(exposures)  # "first" is by time, not by line
    rng.shuffle(outcomes)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "snapshot.json").write_text(json.dumps(SNAPSHOT))
    (directory / "exposures.jsonl").write_text("\n".join(exposures) + "\n")
    (directory / "outcomes.jsonl").write_text("".join(
        json.dumps({"unit": u, "metric": m, "value": v, "time": rfc3339(t)}) + "\n"
        for u, m, v, t in outcomes))
    return directory


def parse_time(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def split_in_force(e, t):
    """The rollout (rule index, or None for the fallthrough) and step (None before the
    first) that served a SPLIT exposure at instant t, and that split."""
    flag = SNAPSHOT["flags"]["checkout"]
    rule = e["rule_index"]
    rollout = (flag["rules"][rule]["serve"] if rule is not None else flag["fallthrough"])["rollout"]
    step, split = None, rollout["split"]
    for i, s in enumerate(rollout.get("schedule", [])):
        if parse_step(s["at"]) <= t:
            step, split = i, s["split"]
    return (rule, step), split


def bucket_variants(split):
    """The variant of each of the 100,000 buckets under a split (docs/format.md §3.3)."""
    return np.repeat([e["variant"] for e in split],
                      [int(round(e["weight"] * 1000)) for e in split])


def expected_report(directory, metric="revenue", control="off"):
    """The report computed independently: per unit its first exposure (earliest time),
    the units seen with two variants, sums of outcomes from the first exposure on, then
    SciPy's statistics."""
    first, variants, splits = {}, {}, {}
    for line in (directory / "exposures.jsonl").read_text().splitlines():
        e = json.loads(line)
        unit = str(e["unit"])
        t = parse_time(e["time"])
        variants.setdefault(unit, set()).add(e["variant"])
        served = split_in_force(e, t) if e["reason"] == "SPLIT" else None
        splits.setdefault(unit, {})[served and served[0]] = served and served[1]
        if unit not in first or t < first[unit][0]:
            first[unit] = (t, e)
    kept = {u for u, vs in variants.items() if len(vs) == 1}
    value = {u: 0.0 for u in kept}
    for line in (directory / "outcomes.jsonl").read_text().splitlines():
        o = json.loads(line)
        unit = str(o["unit"])
        if o["metric"] == metric and unit in kept and parse_time(o["time"]) >= first[unit][0]:
            value[unit] += o["value"]
    groups = {}
    for u in kept:
        groups.setdefault(first[u][1]["variant"], []).append(value[u])
    order = [control] + [v for v in ("off", "on", "green") if v != control and v in groups]
    report_variants, comparisons = [], []
    for v in order:
        x = np.array(groups.get(v, []))
        lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        report_variants.append({"variant": v, "units": len(x), "mean": x.mean(), "ci95": [lo, hi]})
    c = np.array(groups[control])
    for v in order[1:]:
        x = np.array(groups[v])
        test = stats.ttest_ind(x, c, equal_var=False)
        ci = test.confidence_interval(0.95)
        comparisons.append({"variant": v, "control": control, "difference": x.mean() - c.mean(),
                            "ci95": [ci.low, ci.high], "p_value": test.pvalue})
    # Sample ratio: each kept SPLIT unit adds the shares of the buckets on which every split
    # that served it serves one variant (all its splits bucket `account` here), counted
    # bucket by bucket.
    expected, observed, cache = {}, {}, {}
    for u in kept:
        t, e = first[u]
        if e["reason"] != "SPLIT":
            continue
        assert None not in splits[u], "every exposure of a SPLIT unit is a SPLIT here"
        key = tuple(sorted(splits[u], key=repr))
        if key not in cache:
            served = np.array([bucket_variants(splits[u][k]) for k in key])
            agree = (served == served[0]).all(axis=0)
            names, counts = np.unique(served[0][agree], return_counts=True)
            listed = {entry["variant"] for k in key for entry in splits[u][k]}
            cache[key] = {v: 0.0 for v in listed} | dict(zip(names, counts / agree.sum()))
        for v, share in cache[key].items():
            expected[v] = expected.get(v, 0.0) + share
        observed[e["variant"]] = observed.get(e["variant"], 0) + 1
    names = sorted(expected)
    chi = stats.chisquare([observed.get(v, 0) for v in names], [expected[v] for v in names])
    total = sum(expected.values())
    srm = {"chi2": chi.statistic, "p_value": chi.pvalue,
           "expected": {v: expected[v] / total for v in names}, "ok": chi.pvalue >= 0.001}
    return {"flag": "checkout", "metric": metric, "control": control,
            "excluded_units": len(variants) - len(kept), "variants": report_variants,
            "comparisons": comparisons, "srm": srm}


def parse_step(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def analyze(directory, *extra):
    return subprocess.run(
        [BIN, "analyze", str(directory / "snapshot.json"), str(directory / "exposures.jsonl"),
         "--outcomes", str(directory / "outcomes.jsonl"), "--flag", "checkout", *extra],
        capture_output=True, text=True)


def assert_close(actual, expected, path="$"):
    """Same structure and keys; numbers equal to 1e-9 relative (p-values to 1e-7)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and list(actual) == list(expected), (path, actual, expected)
        for k in expected:
            assert_close(actual[k], expected[k], f"{path}.{k}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (path, actual)
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, f"{path}[{i}]")
    elif isinstance(expected, (bool, np.bool_)) or isinstance(expected, str):
        assert actual == expected, (path, actual, expected)
    else:
        rel = 1e-7 if "p_value" in path else 1e-9
        assert actual == pytest.approx(float(expected), rel=rel, abs=1e-300), (path, actual, expected)


@pytest.fixture(scope="module")
def faithful(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("faithful"))


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("broken"), lose=("on", 0.2))


def test_report_agrees_with_scipy(faithful):
    run = analyze(faithful, "--metric", "revenue", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    expected = expected_report(faithful)
    assert_close(report, expected)
    # The generated data has what it should: exclusions, three variants, two compared.
    assert report["excluded_units"] > 50
    assert [v["variant"] for v in report["variants"]] == ["off", "on", "green"]
    assert report["srm"]["ok"] is True


def test_known_effects_are_found(faithful):
    report = json.loads(analyze(faithful, "--metric", "revenue", "--json").stdout)
    on, green = report["comparisons"]
    assert on["variant"] == "on" and on["p_value"] < 1e-6
    assert on["ci95"][0] < TRUE_EFFECT["on"] < on["ci95"][1]
    assert green["ci95"][0] < 0 < green["ci95"][1] and green["p_value"] > 0.05


def test_another_control_and_metric_agree_with_scipy(faithful):
    run = analyze(faithful, "--metric", "clicks", "--control", "green", "--json")
    assert run.returncode == 0, run.stderr
    assert_close(json.loads(run.stdout), expected_report(faithful, "clicks", "green"))


def test_a_broken_split_is_flagged_like_scipy_and_exits_3(broken):
    run = analyze(broken, "--metric", "revenue", "--json")
    assert run.returncode == 3, run.stderr
    report = json.loads(run.stdout)
    expected = expected_report(broken)
    assert expected["srm"]["p_value"] < 0.001  # SciPy says broken too
    assert_close(report, expected)
    assert report["srm"]["ok"] is False
    assert "SAMPLE RATIO MISMATCH" in run.stderr and "THE SPLIT IS BROKEN" in run.stderr


def chromium():
    """Debian's chromium and chromedriver; CI must have them (scripts/test-all.sh
    installs them), so there a missing one fails rather than skips."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (browser and driver):
        message = "headless Chromium (Debian chromium, chromium-driver) is not installed"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1100,2200"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.mark.parametrize("which", ["faithful", "broken"])
def test_html_report_renders_in_a_browser(which, request, tmp_path):
    directory = request.getfixturevalue(which)
    page = tmp_path / f"{which}.html"
    run = analyze(directory, "--metric", "revenue", "--html", str(page))
    assert run.returncode == (0 if which == "faithful" else 3), run.stderr
    browser = chromium()
    try:
        browser.get(page.as_uri())
        assert browser.title == "flagcore analyze: checkout / revenue"
        for chart in ("means-chart", "exposures-chart"):
            svg = browser.find_element("css selector", f"#{chart} svg")
            size = svg.size
            assert size["width"] > 300 and size["height"] > 150, (chart, size)
            # plotters drew the axes' labels as text the browser laid out.
            labels = [t.text for t in svg.find_elements("css selector", "text")]
            assert any(labels), chart
        means = browser.find_element("css selector", "#means-chart svg")
        labels = {t.text for t in means.find_elements("css selector", "text")}
        assert {"off", "on", "green"} <= labels, labels
        exposures = browser.find_element("css selector", "#exposures-chart svg")
        # One line per variant (polylines) plus the legend's samples.
        assert len(exposures.find_elements("css selector", "polyline")) >= 3
        verdict = browser.find_element("id", "srm-verdict")
        if which == "faithful":
            assert "as expected" in verdict.text and "ok" in verdict.get_attribute("class")
        else:
            assert "SAMPLE RATIO MISMATCH" in verdict.text and "bad" in verdict.get_attribute("class")
        rows = browser.find_elements("css selector", "#variants tr")
        assert len(rows) == 4
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors
        shots = Path(os.environ.get("ANALYZE_SCREENSHOTS", tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        assert browser.save_screenshot(str(shots / f"analyze-{which}.png"))
    finally:
        browser.quit()
