"""OFREP conformance through the real OpenFeature Python SDK and its official OFREP
provider (`openfeature-sdk`, `openfeature-provider-ofrep` from PyPI), unchanged, against
`flagcore serve`."""

import pytest
import requests
from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from conftest import until


@pytest.fixture
def client(server):
    api.set_provider(OFREPProvider(base_url=server.url, timeout=5.0))
    yield api.get_client()
    api.clear_providers()


def test_every_type_resolves_with_variant_reason_and_metadata(client):
    d = client.get_boolean_details("bool-flag", False, EvaluationContext("vip"))
    assert (d.value, d.variant, d.reason, d.error_code) == (True, "on", Reason.TARGETING_MATCH, None)
    assert d.flag_metadata == {"owner": "team-a", "ticket": "T-1", "weight": 3}

    d = client.get_string_details("string-flag", "none", EvaluationContext("u1"))
    assert (d.value, d.variant, d.reason) == ("#00f", "blue", Reason.STATIC)

    d = client.get_integer_details("int-flag", 0, EvaluationContext("u1", {"country": "DE"}))
    assert (d.value, d.variant, d.reason) == (50, "large", Reason.TARGETING_MATCH)
    assert type(d.value) is int
    d = client.get_integer_details("int-flag", 0, EvaluationContext("u1", {"country": "FR"}))
    assert (d.value, d.reason) == (10, Reason.DEFAULT)

    # A float flag whose value is whole still arrives as a float (the provider checks).
    d = client.get_float_details("float-flag", 0.5, EvaluationContext("u1"))
    assert d.error_code is None, d.error_message
    assert d.value == 1.0 and type(d.value) is float

    d = client.get_object_details("json-flag", {}, EvaluationContext("u1"))
    assert d.value == {"x": 1, "list": [1, 2]}

    d = client.get_boolean_details("needs-key", False, EvaluationContext("u1"))
    assert d.reason == Reason.SPLIT and d.variant in ("on", "off")


def test_a_failed_prerequisite_is_disabled_with_the_exact_reason_in_metadata(client):
    d = client.get_boolean_details("gated", True, EvaluationContext("someone"))
    assert (d.value, d.variant, d.reason, d.error_code) == (False, "off", Reason.DISABLED, None)
    assert d.flag_metadata["flagcore_reason"] == "PREREQUISITE_FAILED"
    d = client.get_boolean_details("gated", False, EvaluationContext("vip"))
    assert (d.value, d.reason) == (True, Reason.STATIC)


def test_errors_reach_the_caller_as_openfeature_errors(client):
    d = client.get_boolean_details("no-such-flag", True, EvaluationContext("u1"))
    assert (d.value, d.reason, d.error_code) == (True, Reason.ERROR, ErrorCode.FLAG_NOT_FOUND)
    assert "no-such-flag" in d.error_message

    d = client.get_boolean_details("needs-key", True, EvaluationContext(None, {"country": "DE"}))
    assert (d.value, d.error_code) == (True, ErrorCode.TARGETING_KEY_MISSING)

    # A context without a key is no error where no rollout needs one.
    d = client.get_boolean_details("bool-flag", True, EvaluationContext(None, {"country": "DE"}))
    assert (d.value, d.reason, d.error_code) == (False, Reason.DEFAULT, None)
    d = client.get_boolean_details("bool-flag", True)
    assert (d.value, d.error_code) == (False, None)

    # The type is the client's to check: OFREP carries none.
    d = client.get_string_details("bool-flag", "x", EvaluationContext("vip"))
    assert (d.value, d.error_code) == ("x", ErrorCode.TYPE_MISMATCH)


def test_a_key_with_spaces_is_found(client):
    d = client.get_string_details("name with spaces", "no", EvaluationContext("u1"))
    assert (d.value, d.error_code) == ("yes", None)


def test_a_kill_over_http_changes_the_next_evaluation(server, client):
    ctx = EvaluationContext("vip")
    assert client.get_boolean_value("bool-flag", False, ctx) is True
    r = server.edit("bool-flag", "kill", "INC-4711: errors")
    assert r.status_code == 200, r.text
    d = client.get_boolean_details("bool-flag", True, ctx)
    assert (d.value, d.variant, d.reason) == (False, "off", Reason.DISABLED)
    assert d.flag_metadata["kill_reason"] == "INC-4711: errors"
    assert server.edit("bool-flag", "revive").status_code == 200
    assert client.get_boolean_value("bool-flag", False, ctx) is True
    assert [line["action"] for line in server.audit_lines()] == ["kill", "revive"]


def test_a_change_of_the_file_is_served_within_seconds(server, client):
    text = server.file.read_text().replace('"version": 1', '"version": 2').replace('"#00f"', '"#0f0"')
    tmp = server.dir / ".flags.json.tmp"
    tmp.write_text(text)
    tmp.replace(server.file)
    until("the new version", lambda: client.get_string_value("string-flag", "", EvaluationContext("u")) == "#0f0", 5.0)


def test_bulk_evaluation_and_its_etag(server):
    url = f"{server.url}/ofrep/v1/evaluate/flags"
    r = requests.post(url, json={"context": {"targetingKey": "vip"}}, timeout=10)
    assert r.status_code == 200
    flags = {f["key"]: f for f in r.json()["flags"]}
    assert flags["bool-flag"]["value"] is True
    assert set(flags) == {"bool-flag", "string-flag", "int-flag", "float-flag", "json-flag",
                          "needs-key", "gated", "name with spaces"}
    again = requests.post(url, json={"context": {"targetingKey": "vip"}},
                          headers={"If-None-Match": r.headers["ETag"]}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    other = requests.post(url, json={"context": {"targetingKey": "u2"}},
                          headers={"If-None-Match": r.headers["ETag"]}, timeout=10)
    assert other.status_code == 200
