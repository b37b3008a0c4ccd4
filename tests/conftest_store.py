"""Fixtures that run store tests against every backend: SQLite and PostgreSQL.

``store_backend`` is parametrized over both; PostgreSQL params carry the ``postgres``
marker and are skipped with a reason when the server named by ``TEST_POSTGRES_URL`` is
unreachable, unless ``REQUIRE_POSTGRES=1`` (CI), when they fail instead. Each PostgreSQL
test gets its own freshly created schema (via ``search_path``), dropped afterwards, so
tests never see each other's rows and can be rerun.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from ask_sdk_model import Application, Context, RequestEnvelope, User
from ask_sdk_model.interfaces.system import SystemState

from skill.store import UserStore

# What ``from tests.conftest_store import *`` in conftest.py brings in: the fixtures only.
__all__ = ["store", "store_backend"]

DEFAULT_TEST_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"


def envelope_for(user_id: str | None) -> RequestEnvelope:
    """A minimal request envelope as the persistence adapter sees it."""
    user = None if user_id is None else User(user_id=user_id)
    system = SystemState(application=Application(application_id=SKILL_ID), user=user)
    return RequestEnvelope(version="1.0", context=Context(system=system))


@dataclass
class StoreBackend:
    """Where a test's store lives, and raw access to it for assertions."""

    name: str
    url: str
    engine_options: dict[str, Any] = field(default_factory=dict)
    schema: str | None = None  # PostgreSQL only

    def open(self, **kwargs: Any) -> UserStore:
        return UserStore(self.url, engine_options=self.engine_options, **kwargs)

    @property
    def table(self) -> str:
        return f"{self.schema}.user_state" if self.schema else "user_state"

    def admin_engine(self) -> sa.Engine:
        """A separate engine, outside the store, for reading or breaking the table."""
        return sa.create_engine(self.url, isolation_level="AUTOCOMMIT")

    def execute(self, sql: str) -> list[sa.Row]:
        engine = self.admin_engine()
        try:
            with engine.connect() as conn:
                result = conn.execute(sa.text(sql))
                return list(result) if result.returns_rows else []
        finally:
            engine.dispose()


def postgres_test_url() -> str:
    return os.environ.get("TEST_POSTGRES_URL", DEFAULT_TEST_POSTGRES_URL)


@functools.cache
def _postgres_unreachable_reason() -> str | None:
    """Probe the test server once per session; None when it answers."""
    engine = sa.create_engine(postgres_test_url(), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:  # any failure means "not available here"
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return f"PostgreSQL at TEST_POSTGRES_URL is unreachable ({type(exc).__name__}: {reason})"
    finally:
        engine.dispose()
    return None


def require_postgres() -> str:
    """The test server's URL; skip (or fail with REQUIRE_POSTGRES=1) when it is down."""
    reason = _postgres_unreachable_reason()
    if reason is not None:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason}; REQUIRE_POSTGRES=1 forbids skipping", pytrace=False)
        pytest.skip(reason)
    return postgres_test_url()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreBackend]:
    """Each backend in turn, empty and private to the test."""
    if request.param == "sqlite":
        yield StoreBackend("sqlite", f"sqlite:///{tmp_path / 'store' / 'test.sqlite3'}")
        return
    url = require_postgres()
    schema = f"store_test_{uuid.uuid4().hex[:12]}"
    backend = StoreBackend(
        "postgresql",
        url,
        engine_options={"connect_args": {"options": f"-c search_path={schema}"}},
        schema=schema,
    )
    backend.execute(f"CREATE SCHEMA {schema}")
    try:
        yield backend
    finally:
        backend.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def store(store_backend: StoreBackend) -> Iterator[UserStore]:
    """A ready store (schema created) on each backend, disposed afterwards."""
    user_store = store_backend.open()
    try:
        user_store.create_schema()
        yield user_store
    finally:
        user_store.dispose()
