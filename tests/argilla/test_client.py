"""Retries: connection errors and the real server's 5xx answers; the key never in errors."""

import pytest

from curate.argilla.client import ArgillaClient, ArgillaError
from curate.argilla.server import free_port


def test_connection_errors_are_retried_then_reported_without_the_key():
    client = ArgillaClient(f"http://127.0.0.1:{free_port()}", "secret-key-123", retries=2,
                           backoff=0.01)
    with pytest.raises(ArgillaError, match="cannot reach the Argilla server .* after 3 tries") \
            as err:
        client.me()
    assert "secret-key-123" not in str(err.value)


def test_server_errors_are_retried_and_reported(argilla_stack, owner, annotators, record_ids):
    from curate.argilla.push import push_records
    from curate.records import records_to_frame

    frame = records_to_frame([{"id": "x", "kind": "sft", "source": "t", "meta": {},
                               "messages": [{"role": "user", "content": "q"},
                                            {"role": "assistant", "content": "a"}]}])
    push_records(owner, frame, dataset="errors-test")
    rid = record_ids(owner, "errors-test")["x"]
    # a known gap of the local stack: a discarded response without values fails in the server
    # (an unhandled error: the connection drops instead of an answer)
    client = ArgillaClient(argilla_stack.api_url, argilla_stack.api_key, retries=0, backoff=0.01)
    with pytest.raises(ArgillaError, match=r"after 1 tries|HTTP 500") as err:
        client.post(f"/api/v1/records/{rid}/responses", {"values": None, "status": "discarded"})
    assert argilla_stack.api_key not in str(err.value)
    assert owner.me()["username"] == "argilla"  # the server is still there
    with pytest.raises(ArgillaError, match="no Argilla dataset named 'nope'"):
        client.dataset("nope")
    with pytest.raises(ArgillaError, match="HTTP 401"):
        ArgillaClient(argilla_stack.api_url, "wrong-key", retries=0).me()
