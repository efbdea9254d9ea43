"""flagcore's own HTTP source (here the Python binding's) polls `GET /v1/snapshot` of
`flagcore serve` unchanged, with ETags, and sees a kill within its poll interval."""

import pytest

from conftest import required, until

try:
    import flagcore
except ImportError:  # the wheel is built and installed by flagcore-py/scripts/test.sh
    flagcore = None
if flagcore is not None and not hasattr(flagcore, "Store"):
    flagcore = None  # the checkout's flagcore/ directory, not the wheel


def test_the_python_http_source_follows_the_server(server):
    if flagcore is None:
        required("the flagcore wheel")
    store = flagcore.Store()
    source = flagcore.HttpSource(store, f"{server.url}/v1/snapshot", interval=0.1)
    try:
        assert store.version == 1
        assert store.bool("bool-flag", False, key="vip") is True
        until("a few 304s", lambda: source.status().unchanged >= 2)
        assert server.edit("bool-flag", "kill", "load shedding").status_code == 200
        until("version 2", lambda: store.version == 2)
        details = store.bool_details("bool-flag", True, key="vip")
        assert (details.value, details.reason) == (False, "DISABLED")
        assert source.status().consecutive_failures == 0
    finally:
        source.stop()
