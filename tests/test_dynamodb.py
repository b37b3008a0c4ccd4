"""``DATABASE_URL=dynamodb://<table>``: ask-sdk's DynamoDbAdapter, configured by us.

Configuration is checked without any network. The round trips go through the real
adapter, boto3 and botocore to a small DynamoDB-speaking HTTP server on 127.0.0.1 (the
JSON protocol: ``X-Amz-Target: DynamoDB_20120810.<Operation>``), so serialization,
number types, keys and timeouts are exercised as they would be against AWS.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytest.importorskip("ask_sdk_dynamodb", reason="the [dynamodb] extra is not installed")

from skill.app import create_app  # noqa: E402
from skill.envelopes import Conversation  # noqa: E402
from skill.store import StoreUnavailable, hash_user_id, open_store  # noqa: E402
from skill.store_dynamodb import DynamoStore, parse_dynamodb_url  # noqa: E402
from tests.alexa_limits import check_response  # noqa: E402
from tests.conftest_store import envelope_for  # noqa: E402
from tests.netfaults import free_port  # noqa: E402

RAW_ID = "amzn1.ask.account.AFDYNAMOUSERIDNEVERSTOREDRAW000"
SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch):
    """Dummy credentials: botocore signs requests even for a local endpoint."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


# ----------------------------------------------------------------- configuration


def test_url_selects_the_sdk_adapter_with_our_settings():
    store = open_store("dynamodb://breathing-room?region=eu-west-1")
    assert isinstance(store, DynamoStore)
    adapter = store.adapter
    assert type(adapter).__module__ == "ask_sdk_dynamodb.adapter"
    assert adapter.table_name == "breathing-room"
    assert adapter.partition_key_name == "id"
    assert adapter.attribute_name == "attributes"
    assert adapter.create_table is False and store.create_table is False
    key = adapter.partition_keygen(envelope_for(RAW_ID))
    assert key == hash_user_id(RAW_ID) and RAW_ID not in key
    client = adapter.dynamodb.meta.client
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.config.connect_timeout == 2
    assert client.meta.config.read_timeout == 2
    assert client.meta.config.retries["total_max_attempts"] == 2


def test_create_table_flag_and_endpoint():
    store = open_store("dynamodb://t1?region=us-east-1&create_table=true"
                       "&endpoint_url=http://127.0.0.1:9")
    assert store.create_table is True
    assert store.adapter.dynamodb.meta.client.meta.endpoint_url == "http://127.0.0.1:9"


@pytest.mark.parametrize("url, problem", [
    ("dynamodb://", "dynamodb://<table-name>"),
    ("dynamodb://a/b", "dynamodb://<table-name>"),
    ("dynamodb://t?regoin=x", "unknown DynamoDB URL parameter"),
])
def test_bad_dynamodb_urls(url, problem):
    with pytest.raises(ValueError, match=problem):
        parse_dynamodb_url(url)


# ----------------------------------------------------------------- a local DynamoDB


class _DynamoHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        server = self.server
        operation = self.headers["X-Amz-Target"].split(".", 1)[1]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        server.calls.append((operation, body))  # type: ignore[attr-defined]
        items = server.items  # type: ignore[attr-defined]
        if operation == "GetItem":
            item = items.get(body["Key"]["id"]["S"])
            self._reply({"Item": item} if item else {})
        elif operation == "PutItem":
            items[body["Item"]["id"]["S"]] = body["Item"]
            self._reply({})
        elif operation == "DeleteItem":
            items.pop(body["Key"]["id"]["S"], None)
            self._reply({})
        elif operation in ("CreateTable", "DescribeTable"):
            self._reply({"TableDescription" if operation == "CreateTable" else "Table": {
                "TableName": body["TableName"], "TableStatus": "ACTIVE"}})
        else:
            self._reply({"__type": "UnknownOperationException"}, 400)

    def _reply(self, payload: dict, status: int = 200) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def dynamo() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DynamoHandler)
    server.daemon_threads = True
    server.calls = []  # type: ignore[attr-defined]
    server.items = {}  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def url_for(server: ThreadingHTTPServer, table: str = "breathing-room") -> str:
    return (f"dynamodb://{table}?region=us-east-1"
            f"&endpoint_url=http://127.0.0.1:{server.server_address[1]}")


def test_round_trip_keeps_json_types_and_hashes_the_key(dynamo):
    store = open_store(url_for(dynamo))
    record = {"visits": 2, "paces": {"BOX": 1.25}, "heard": ["p1", "p2"], "paused": None}

    store.save_attributes(envelope_for(RAW_ID), record)
    got = store.get_attributes(envelope_for(RAW_ID))

    assert got == record
    assert type(got["visits"]) is int and type(got["paces"]["BOX"]) is float
    assert list(dynamo.items) == [hash_user_id(RAW_ID)]
    assert RAW_ID not in json.dumps(dynamo.calls)
    store.delete_attributes(envelope_for(RAW_ID))
    assert store.get_attributes(envelope_for(RAW_ID)) == {}
    assert store.ping() is True


def test_init_db_creates_the_table(dynamo):
    store = open_store(url_for(dynamo, "made-here"))
    store.create_schema()  # create_table not asked for: nothing sent
    assert dynamo.calls == []
    store.create_table_now()
    operation, body = dynamo.calls[0]
    assert operation == "CreateTable" and body["TableName"] == "made-here"
    assert body["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


def test_unreachable_dynamodb_is_store_unavailable_logged_once(caplog):
    caplog.set_level(logging.WARNING, logger="skill.store")
    store = open_store(f"dynamodb://t?region=us-east-1&endpoint_url=http://127.0.0.1:{free_port()}")
    for _ in range(3):
        with pytest.raises(StoreUnavailable):
            store.get_attributes(envelope_for(RAW_ID))
    assert store.ping() is False
    assert len([r for r in caplog.records if r.name == "skill.store"]) == 1


def test_the_skill_on_dynamodb(dynamo, tmp_path):
    app = create_app({"DEV": True, "ALEXA_SKILL_ID": SKILL_ID,
                      "DATABASE_URL": url_for(dynamo), "INSTANCE_PATH": str(tmp_path)})
    client = app.test_client()
    person = Conversation(RAW_ID, skill_id=SKILL_ID)
    reply = client.post("/alexa", json=person.launch()).get_json()
    check_response(reply)
    stored = dynamo.items[hash_user_id(RAW_ID)]["attributes"]["M"]
    assert stored["visits"] == {"N": "1"}
    assert client.get("/healthz").get_json()["database"] == "ok"
