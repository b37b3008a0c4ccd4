"""Per-user state in Amazon DynamoDB, through ask-sdk's own ``DynamoDbAdapter``.

For AWS deployments (Lambda especially, where a SQLite file would vanish with the
container): ``DATABASE_URL=dynamodb://<table>`` with the optional extra installed,
``pip install 'breathing-room[dynamodb]'``. Query parameters:

* ``region`` -- AWS region (default: the usual AWS settings, e.g. ``AWS_REGION``);
* ``create_table`` -- ``true`` to let the adapter create the table at start-up (needs
  ``dynamodb:CreateTable``; usually the table is provisioned with the rest of the stack);
* ``endpoint_url`` -- another endpoint, e.g. DynamoDB Local on ``http://127.0.0.1:8000``.

The table's partition key is ``id`` (string), holding the same one-way hash of the Alexa
user id as the SQL store, never the raw id. Every call has a connect and a read timeout
and at most one retry, so a slow DynamoDB cannot hold a request past Alexa's 8 s.

Differences from :class:`skill.store.UserStore`, by design of ask-sdk's adapter: a save
writes the whole record (two devices of one person saving at the same moment: the last
one wins whole), and the adapter's own errors become :class:`StoreUnavailable` here, so
the handlers degrade to "no history" exactly as with SQL.
"""

from __future__ import annotations

import decimal
import importlib
import json
import os
import urllib.parse
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_model import RequestEnvelope

from .store import OutageLog, StoreUnavailable, alexa_user_id, hash_user_id

SCHEME = "dynamodb"
PARTITION_KEY = "id"
ATTRIBUTE_NAME = "attributes"

#: botocore limits per call: seconds to connect, seconds per read, and total attempts.
CONNECT_TIMEOUT_S = 2
READ_TIMEOUT_S = 2
MAX_ATTEMPTS = 2

_TRUE = {"1", "true", "yes", "on"}


def is_dynamodb_url(database_url: object) -> bool:
    return isinstance(database_url, str) and database_url.startswith(f"{SCHEME}://")


def parse_dynamodb_url(database_url: str) -> dict[str, Any]:
    """``dynamodb://table?region=..&create_table=..&endpoint_url=..`` -> settings."""
    parts = urllib.parse.urlsplit(database_url)
    table = urllib.parse.unquote(parts.netloc + parts.path).strip("/")
    if parts.scheme != SCHEME or not table or "/" in table:
        raise ValueError("DATABASE_URL for DynamoDB must look like dynamodb://<table-name>")
    query = dict(urllib.parse.parse_qsl(parts.query))
    unknown = set(query) - {"region", "create_table", "endpoint_url"}
    if unknown:
        raise ValueError(f"unknown DynamoDB URL parameter(s): {', '.join(sorted(unknown))}")
    return {
        "table": table,
        "region": query.get("region") or None,
        "create_table": query.get("create_table", "").lower() in _TRUE,
        "endpoint_url": query.get("endpoint_url") or None,
    }


def _import_adapter_class() -> type:
    """Import ``DynamoDbAdapter``, which builds a boto3 resource as a default argument.

    That default needs *some* region at import time (outside Lambda there may be none
    configured); we always pass our own resource, so a placeholder region is set just for
    the import when none is configured.
    """
    try:
        importlib.import_module("boto3")
    except ImportError as exc:
        raise ImportError(
            "DATABASE_URL is dynamodb://... but the DynamoDB extra is not installed: "
            "pip install 'breathing-room[dynamodb]'"
        ) from exc
    placeholder = not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    if placeholder:
        os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    try:
        module = importlib.import_module("ask_sdk_dynamodb.adapter")
    finally:
        if placeholder:
            del os.environ["AWS_DEFAULT_REGION"]
    return module.DynamoDbAdapter


def _to_dynamo(attributes: dict) -> dict:
    """DynamoDB numbers must be ``Decimal`` (boto3 refuses floats)."""
    return json.loads(json.dumps(attributes, allow_nan=False), parse_float=decimal.Decimal)


def _from_dynamo(value: Any) -> Any:
    """Back to plain JSON types: integral Decimals become int, others float."""
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class DynamoStore(AbstractPersistenceAdapter):
    """The ask-sdk DynamoDB adapter with this project's keys, timeouts and errors."""

    def __init__(
        self,
        database_url: str,
        *,
        key_secret: str | bytes | None = None,
        outages: OutageLog | None = None,
    ) -> None:
        settings = parse_dynamodb_url(database_url)
        adapter_class = _import_adapter_class()
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        )
        resource = boto3.resource(
            "dynamodb",
            region_name=settings["region"],
            endpoint_url=settings["endpoint_url"],
            config=config,
        )
        self.table_name: str = settings["table"]
        self._key_secret = key_secret
        self.outages = outages or OutageLog()
        self.adapter = adapter_class(
            table_name=self.table_name,
            partition_key_name=PARTITION_KEY,
            attribute_name=ATTRIBUTE_NAME,
            create_table=False,  # created by create_schema(), when asked
            partition_keygen=self.partition_key,
            dynamodb_resource=resource,
        )
        self.create_table = settings["create_table"]

    def __repr__(self) -> str:
        return f"DynamoStore({self.table_name!r})"

    def partition_key(self, request_envelope: RequestEnvelope) -> str:
        """The row key: a one-way hash of the Alexa user id (as in the SQL store)."""
        user_id = alexa_user_id(request_envelope)
        if user_id is None:
            raise ValueError("request envelope carries no user id")
        return hash_user_id(user_id, self._key_secret)

    # ---------------------------------------------------------------- ask-sdk adapter

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        if alexa_user_id(request_envelope) is None:
            return {}
        return _from_dynamo(self._call("get_attributes", self.adapter.get_attributes,
                                       request_envelope))

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: dict) -> None:
        if alexa_user_id(request_envelope) is None:
            return
        self._call("save_attributes", self.adapter.save_attributes, request_envelope,
                   _to_dynamo(attributes))

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        if alexa_user_id(request_envelope) is None:
            return
        self._call("delete_attributes", self.adapter.delete_attributes, request_envelope)

    # ---------------------------------------------------------------- maintenance

    def create_schema(self) -> None:
        """Create the table when ``create_table=true`` (an existing table is fine)."""
        if not self.create_table:
            return
        create = self.adapter._DynamoDbAdapter__create_table_if_not_exists  # the SDK's own
        self.adapter.create_table = True
        try:
            self._call("create_schema", create)
        finally:
            self.adapter.create_table = False

    def create_table_now(self) -> None:
        """Create the table whatever ``create_table`` says (``breathing-room init-db``)."""
        self.create_table = True
        self.create_schema()

    def ping(self) -> bool:
        """True when the table can be described (one cheap control-plane call)."""
        try:
            self.adapter.dynamodb.meta.client.describe_table(TableName=self.table_name)
        except Exception as exc:  # a health probe must answer, whatever went wrong
            self.outages.failed("ping", exc)
            return False
        self.outages.succeeded()
        return True

    def dispose(self) -> None:
        """Nothing pooled to close (boto3 manages its HTTP connections)."""

    # ---------------------------------------------------------------- internals

    def _call(self, operation: str, function: Any, *args: Any) -> Any:
        try:
            result = function(*args)
        except Exception as exc:  # the adapter wraps everything in PersistenceException
            self.outages.failed(operation, exc)
            raise StoreUnavailable(f"{operation} failed: {type(exc).__name__}") from exc
        self.outages.succeeded()
        return result
