"""Per-user persistent state behind ask-sdk's ``AbstractPersistenceAdapter``.

The skill remembers a little about each person between sessions (where a routine was
paused, the last technique, the preferred pace, which reflection prompt comes next), so
"resume" and good defaults work. This module keeps that state in one SQL table through
SQLAlchemy Core: a SQLite file by default, PostgreSQL when ``DATABASE_URL`` says so.

Privacy: raw Alexa user ids are never stored or logged. Rows are keyed by
:func:`user_key`, a one-way hash of the id; logs show at most its first 8 characters.

Concurrency: one person may use two devices at once (a speaker in the bedroom and one in
the kitchen). A save is first an optimistic compare-and-set on the row's ``version``; a
save that lost the race re-reads the row under a write lock and re-applies only the keys
*this* request changed, so the last writer wins per top-level key and no device's other
keys are lost. See :meth:`UserStore.save_attributes`.

Failures: any database error surfaces as :class:`StoreUnavailable`, never as a
SQLAlchemy exception, so callers can catch one type and degrade to "no history".
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_model import RequestEnvelope
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, RootTransaction
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

__all__ = [
    "DATABASE_FILENAME",
    "StoreConflict",
    "StoreUnavailable",
    "UserStore",
    "default_database_url",
    "normalize_database_url",
    "open_store",
    "user_key",
]

log = logging.getLogger(__name__)

DATABASE_FILENAME = "breathing-room.sqlite3"

#: How long a SQLite connection waits for another writer's lock before failing (ms).
#: A read and a write per request, each bounded by this, stay inside Alexa's 8 s.
SQLITE_BUSY_TIMEOUT_MS = 2000

#: PostgreSQL limits, all within Alexa's 8 s for the whole answer: connecting (s), one
#: statement including any wait for a row lock (ms), and waiting for a pooled connection (s).
PG_CONNECT_TIMEOUT_S = 3
PG_STATEMENT_TIMEOUT_MS = 2000
PG_POOL_TIMEOUT_S = 3

#: During an outage the failure is logged at most once per this many seconds.
ERROR_LOG_INTERVAL_S = 60.0

#: Domain separation for the unsalted hash, so our keys never equal a bare sha256 of an
#: Alexa id that some other system might also store.
_UNSALTED_PREFIX = b"breathing-room/user-key/v1:"

metadata = sa.MetaData()

user_state = sa.Table(
    "user_state",
    metadata,
    sa.Column("user_key", sa.String(64), primary_key=True),
    # JSONB on PostgreSQL (indexable, compact); JSON text everywhere else.
    sa.Column(
        "attributes",
        sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
        nullable=False,
    ),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


# Statements built once: constructing SQLAlchemy expressions costs more per request
# than the SQLite statements themselves.
_SELECT_ROW = sa.select(user_state.c.version, user_state.c.attributes).where(
    user_state.c.user_key == sa.bindparam("k")
)
_SELECT_ROW_LOCKED = _SELECT_ROW.with_for_update()
_SQLITE_SELECT = "SELECT version, attributes FROM user_state WHERE user_key = ?"
_SQLITE_UPDATE = (
    "UPDATE user_state SET attributes = ?, version = ?, updated_at = ? "
    "WHERE user_key = ? AND version = ?"
)
_SQLITE_INSERT = (
    "INSERT INTO user_state (user_key, attributes, version, updated_at) VALUES (?, ?, 1, ?) "
    "ON CONFLICT (user_key) DO NOTHING"
)
_UPDATE_IF_VERSION = (
    sa.update(user_state)
    .where(user_state.c.user_key == sa.bindparam("k"))
    .where(user_state.c.version == sa.bindparam("seen"))
    .values(
        attributes=sa.bindparam("attrs", type_=user_state.c.attributes.type),
        version=sa.bindparam("next_version", type_=sa.Integer),
        updated_at=sa.bindparam("now", type_=user_state.c.updated_at.type),
    )
)


def _insert_if_absent(insert: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the dialect's ``insert`` construct."""
    return (
        insert(user_state)
        .values(
            user_key=sa.bindparam("k"),
            attributes=sa.bindparam("attrs", type_=user_state.c.attributes.type),
            version=1,
            updated_at=sa.bindparam("now", type_=user_state.c.updated_at.type),
        )
        .on_conflict_do_nothing(index_elements=[user_state.c.user_key])
    )


class StoreUnavailable(Exception):
    """The database could not be reached or answered with an error.

    Callers catch this one type and carry on without history; the original
    SQLAlchemy error is kept as ``__cause__`` for the logs.
    """


class StoreConflict(StoreUnavailable):
    """A save kept losing the optimistic-concurrency race and gave up.

    A subclass of :class:`StoreUnavailable` because callers should treat it the same
    way: this turn's changes are not saved, the conversation goes on.
    """


# --------------------------------------------------------------------------- keys


def alexa_user_id(request_envelope: RequestEnvelope | None) -> str | None:
    """The raw Alexa user id of a request, or None when the request carries none.

    ``context.System.user`` is present on every request type we handle (including
    AudioPlayer and skill events, which have no session); ``session.user`` is only a
    fallback for hand-built envelopes in tests and tools.
    """
    context = getattr(request_envelope, "context", None)
    system = getattr(context, "system", None)
    user = getattr(system, "user", None)
    if user is None:
        user = getattr(getattr(request_envelope, "session", None), "user", None)
    user_id = getattr(user, "user_id", None)
    return user_id or None


def hash_user_id(user_id: str, secret: str | bytes | None = None) -> str:
    """Hex key for a raw user id: HMAC-SHA256 with ``secret``, else a prefixed SHA-256.

    With a secret, someone holding a copy of the database cannot confirm a guessed
    Alexa id. Changing the secret orphans every row (everyone starts fresh), so treat
    it like any other long-lived key.
    """
    data = user_id.encode("utf-8")
    if secret:
        key = secret.encode("utf-8") if isinstance(secret, str) else secret
        return hmac.new(key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(_UNSALTED_PREFIX + data).hexdigest()


def user_key(request_envelope: RequestEnvelope, secret: str | bytes | None = None) -> str:
    """Stable, non-reversible key (64 hex chars) for the person making the request.

    Raises ``ValueError`` when the envelope has no user id; :class:`UserStore` checks
    first and treats such requests as having no state.
    """
    user_id = alexa_user_id(request_envelope)
    if user_id is None:
        raise ValueError("request envelope carries no user id")
    return hash_user_id(user_id, secret)


def _short(key: str) -> str:
    """The only part of a user key that may appear in logs."""
    return key[:8]


# --------------------------------------------------------------------------- URLs


def default_database_url(instance_path: str | os.PathLike[str]) -> str:
    """SQLite URL for ``breathing-room.sqlite3`` inside the app's instance folder.

    The folder itself is created by :class:`UserStore`, when the store is opened,
    so computing a URL has no side effects.
    """
    path = os.path.abspath(os.path.join(os.fspath(instance_path), DATABASE_FILENAME))
    return URL.create("sqlite", database=path).render_as_string(hide_password=False)


def normalize_database_url(database_url: str | URL) -> URL:
    """Parse a database URL and point plain PostgreSQL URLs at the psycopg 3 driver.

    ``postgresql://`` (and Heroku-style ``postgres://``) mean psycopg2 to SQLAlchemy,
    which this project does not install; psycopg 3 is the supported driver, so those
    URLs are rewritten to ``postgresql+psycopg://`` instead of failing at connect time.
    Raises ``ValueError`` for a malformed URL without echoing it (it may hold a password).
    """
    try:
        url = sa.make_url(database_url)
    except ArgumentError as exc:
        raise ValueError("DATABASE_URL is not a valid SQLAlchemy database URL") from exc
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def open_store(database_url: str | URL, **options: Any) -> AbstractPersistenceAdapter:
    """The store a ``DATABASE_URL`` names: :class:`UserStore` for SQLite and PostgreSQL,
    ``DynamoStore`` for ``dynamodb://<table>`` (optional extra, imported only then)."""
    if isinstance(database_url, str) and database_url.startswith("dynamodb://"):
        from .store_dynamodb import DynamoStore

        return DynamoStore(database_url, **options)
    return UserStore(database_url, **options)


def _is_memory_sqlite(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _engine_options(url: URL, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults per backend, then the caller's ``engine_options`` on top.

    ``connect_args`` are merged one level deep, so a caller can add e.g. a
    ``search_path`` without losing the defaults below.
    """
    options: dict[str, Any] = {"hide_parameters": True}  # keeps attributes out of logs
    if url.get_backend_name() == "sqlite":
        # The pool gives each connection to one thread at a time, but not always the
        # thread that opened it; sqlite3's same-thread check would refuse that.
        options["connect_args"] = {"check_same_thread": False}
        if _is_memory_sqlite(url):
            options["poolclass"] = StaticPool  # one shared in-memory db (tests only)
    else:
        options.update(
            pool_pre_ping=True,  # a restarted server or idle-killed connection is retried
            pool_size=5,
            max_overflow=5,
            pool_timeout=PG_POOL_TIMEOUT_S,  # Alexa gives us 8 s per response in total
            pool_recycle=1800,
            connect_args={"options": f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS:d}"},
        )
        in_url = url.query.get("options")
        if isinstance(in_url, str):  # e.g. ?options=-csearch_path%3Dtenant: keep both
            options["connect_args"]["options"] += f" {in_url}"
        if "connect_timeout" not in url.query:  # a connect_timeout in the URL wins
            options["connect_args"]["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    overrides = dict(overrides or {})
    extra = dict(overrides.pop("connect_args", {}))
    connect_args = dict(options.get("connect_args", {}))
    if "options" in extra and "options" in connect_args:
        # libpq ``options`` are one string: keep our timeouts and add the caller's settings.
        extra["options"] = f"{connect_args['options']} {extra['options']}"
    connect_args.update(extra)
    options.update(overrides)
    options["connect_args"] = connect_args
    return options


def _prepare_sqlite_folder(url: URL) -> None:
    """Create the folder of a SQLite file; failure is logged, and surfaces on use.

    Not raising here keeps a misconfigured path from crashing start-up: the store then
    reports ``ping() == False`` and raises :class:`StoreUnavailable` like any outage.
    """
    if url.get_backend_name() != "sqlite" or _is_memory_sqlite(url):
        return
    folder = os.path.dirname(os.path.abspath(url.database))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:  # reported (rate-limited) when the database is then used
        log.debug("cannot create the SQLite folder: %s", type(exc).__name__)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers and one writer work at once; busy_timeout makes writers queue.

    Both are per connection (WAL persists in the file, but setting it again is cheap
    and covers a file that was just created), hence an event on every connect.
    The driver's own implicit BEGIN is switched off (``isolation_level = None``) so
    that :func:`_on_sqlite_begin` decides how each transaction starts; this is the
    recipe SQLAlchemy documents for correct transactions on pysqlite.
    """
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS:d}")
        # In WAL mode NORMAL cannot corrupt the database: a commit appends to the WAL
        # without waiting for fsync, and the WAL is synced before each checkpoint copies
        # it into the database file. A power cut (not a process crash) may lose the last
        # few commits -- a visit count, a pace -- and the file stays consistent. That
        # trade is right for this data and removes an fsync from every saving request.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


_SQLITE_BEGIN = "breathing_room_sqlite_begin"  # execution option read by _on_sqlite_begin


def _on_sqlite_begin(conn: Connection) -> None:
    """Start a SQLite transaction: IMMEDIATE for writes, DEFERRED for other work.

    IMMEDIATE takes the database's write lock up front, so a locked
    read-merge-write cannot be overtaken by another writer between its read and
    its write (SQLite's equivalent of PostgreSQL's ``SELECT ... FOR UPDATE``).
    ``SINGLE`` emits no BEGIN at all: a lone SELECT is atomic by itself in SQLite's
    autocommit mode, and skipping BEGIN/COMMIT saves two statements per request.
    """
    mode = conn.get_execution_options().get(_SQLITE_BEGIN, "DEFERRED")
    if mode != "SINGLE":
        conn.exec_driver_sql(f"BEGIN {mode}")


def _reading(conn: Connection) -> RootTransaction:
    """A transaction for one read-only statement (see :func:`_on_sqlite_begin`)."""
    return conn.execution_options(**{_SQLITE_BEGIN: "SINGLE"}).begin()


def _writing(conn: Connection) -> RootTransaction:
    """A write transaction, holding the write lock from its start on SQLite."""
    return conn.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"}).begin()


# --------------------------------------------------------------------------- saves


def _json_copy(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """A deep, JSON-normalized copy (tuples become lists), so comparisons are exact.

    Raises ``TypeError``/``ValueError`` for values JSON cannot hold: that is a bug in
    the caller, not an outage, so it is deliberately not turned into StoreUnavailable.
    """
    return json.loads(json.dumps(dict(attributes), allow_nan=False))


@dataclass(frozen=True)
class _Changes:
    """What one request did to the attributes it read: keys set and keys removed."""

    assigned: dict[str, Any]
    removed: frozenset[str]

    @classmethod
    def between(cls, before: Mapping[str, Any], after: Mapping[str, Any]) -> _Changes:
        changed = {k: v for k, v in after.items() if k not in before or before[k] != v}
        return cls(changed, frozenset(before.keys() - after.keys()))

    def __bool__(self) -> bool:
        return bool(self.assigned or self.removed)

    def apply(self, current: Mapping[str, Any]) -> dict[str, Any]:
        """This request's changes on top of whatever the row holds now."""
        merged = {k: v for k, v in current.items() if k not in self.removed}
        merged.update(copy.deepcopy(self.assigned))
        return merged


@dataclass(frozen=True)
class _Read:
    """The row as one request saw it: the base its later save is compared against."""

    user_key: str
    version: int  # 0 means "no row existed"
    attributes: dict[str, Any]


class _ReadLog:
    """Remembers what ``get_attributes`` returned, per request-envelope object.

    ask-sdk's AttributesManager calls ``get_attributes`` and later ``save_attributes``
    with the same envelope object, so object identity links a save to its read. Entries
    hold only a weak reference and vanish when the envelope is garbage-collected.
    """

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref[Any], _Read]] = {}
        # Re-entrant: a garbage collection inside a locked section may run _drop_dead.
        self._lock = threading.RLock()

    def remember(self, envelope: Any, read: _Read) -> None:
        ident = id(envelope)
        with self._lock:
            if ident not in self._entries:
                finalizer = weakref.finalize(envelope, self._drop_dead, ident)
                finalizer.atexit = False
            self._entries[ident] = (weakref.ref(envelope), read)

    def recall(self, envelope: Any, key: str) -> _Read | None:
        with self._lock:
            entry = self._entries.get(id(envelope))
        if entry is None or entry[0]() is not envelope or entry[1].user_key != key:
            return None
        return entry[1]

    def forget(self, envelope: Any) -> None:
        with self._lock:
            entry = self._entries.get(id(envelope))
            if entry is not None and entry[0]() is envelope:
                del self._entries[id(envelope)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _drop_dead(self, ident: int) -> None:
        with self._lock:
            entry = self._entries.get(ident)
            if entry is not None and entry[0]() is None:
                del self._entries[ident]


# --------------------------------------------------------------------------- outages


class OutageLog:
    """Logs a database outage once per ``interval`` seconds, not once per request.

    During an outage every request fails the same way; a warning per request would
    bury everything else in the log (and cost I/O exactly when things are bad). The
    first failure is logged at once; later ones within ``interval`` are counted and the
    count is reported with the next line. The first success after a logged failure
    says the database is back. ``down`` is read without the lock on the hot path.
    """

    def __init__(
        self, interval: float = ERROR_LOG_INTERVAL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self.down = False
        self._last_report: float | None = None
        self._suppressed = 0
        self._reported_since_up = False

    def failed(self, operation: str, exc: BaseException, key: str | None = None) -> None:
        who = f" for user {_short(key)}" if key else ""
        with self._lock:
            self.down = True
            now = self._clock()
            if self._last_report is not None and now - self._last_report < self.interval:
                self._suppressed += 1
                log.debug("store %s failed%s: %s", operation, who, _describe(exc))
                return
            suppressed, self._suppressed = self._suppressed, 0
            self._last_report = now
            self._reported_since_up = True
        more = f" ({suppressed} more failures not logged)" if suppressed else ""
        log.warning(
            "store %s failed%s: %s; running without history, next report in %ds at most%s",
            operation, who, _describe(exc), int(self.interval), more,
        )

    def succeeded(self) -> None:
        if not self.down:
            return
        with self._lock:
            if not self.down:
                return
            self.down = False
            report, self._reported_since_up = self._reported_since_up, False
        if report:
            log.warning("store is available again")


# --------------------------------------------------------------------------- store


class UserStore(AbstractPersistenceAdapter):
    """ask-sdk persistence adapter storing one JSON dict per user in ``user_state``.

    ``database_url`` is any SQLAlchemy URL for SQLite or PostgreSQL (plain
    ``postgresql://`` is accepted, see :func:`normalize_database_url`).
    ``engine_options`` go to ``create_engine`` on top of this module's defaults.
    ``key_secret`` salts :func:`user_key` (HMAC); keep it stable across deploys.
    """

    #: Attempts per save before giving up with StoreConflict. Only the first is
    #: optimistic; the others hold the row (or SQLite's write) lock from read to write,
    #: so they can only lose to a concurrent first INSERT of the same new user.
    max_attempts = 5

    def __init__(
        self,
        database_url: str | URL,
        *,
        engine_options: dict[str, Any] | None = None,
        key_secret: str | bytes | None = None,
        outages: OutageLog | None = None,
    ) -> None:
        url = normalize_database_url(database_url)
        backend = url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database backend {backend!r}: use sqlite or postgresql")
        _prepare_sqlite_folder(url)
        self._sqlite = backend == "sqlite"
        self._insert_row = _insert_if_absent(
            sqlite.insert if backend == "sqlite" else postgresql.insert
        )
        self._engine: Engine = sa.create_engine(url, **_engine_options(url, engine_options))
        if backend == "sqlite":
            sa.event.listen(self._engine, "connect", _on_sqlite_connect)
            sa.event.listen(self._engine, "begin", _on_sqlite_begin)
        self._key_secret = key_secret
        self._reads = _ReadLog()
        self.outages = outages or OutageLog()
        # Set by create_schema: a store whose schema could not be created (database down
        # at start-up) retries on later use, so a database coming back needs no restart.
        self._schema_wanted = False
        self._schema_ready = False

    def __repr__(self) -> str:
        return f"UserStore({self._engine.url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for tests and health checks that need raw access."""
        return self._engine

    # ---------------------------------------------------------------- ask-sdk adapter

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        """The user's saved attributes ({} for a new user or a request with no user).

        Also remembers the row version and a copy of what was returned, keyed by the
        envelope object, so the matching save can detect and merge concurrent writes.
        """
        key = self._key_for(request_envelope)
        if key is None:
            return {}
        if self._sqlite:
            read = self._read_sqlite(key)
        else:
            with self._connection("get_attributes", key) as conn, _reading(conn):
                read = self._read(conn, key)
        self._reads.remember(request_envelope, read)
        return copy.deepcopy(read.attributes)

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: dict) -> None:
        """Save ``attributes`` for the user: last writer wins per top-level key.

        The keys this request set or removed since its ``get_attributes`` are written
        with ``UPDATE ... WHERE version = <version read>``, holding no lock while the
        handler ran. If another device saved in between (0 rows updated), the row is
        re-read under a write lock, this request's changes are applied on top of it and
        written in the same transaction, so the other device's keys survive and the
        retry cannot be overtaken again. Without a preceding read in this request every
        given key counts as changed and nothing is removed. A request with no user id
        saves nothing; a save that changes nothing writes nothing.
        """
        key = self._key_for(request_envelope)
        if key is None:
            return
        wanted = _json_copy(attributes)
        base = self._reads.recall(request_envelope, key)
        if base is not None:
            changes = _Changes.between(base.attributes, wanted)
            if not changes:
                return
            saved = self._first_write_sqlite(base, changes) if self._sqlite else None
            if saved is not None:
                self._reads.remember(request_envelope, saved)
                return
        with self._connection("save_attributes", key) as conn:
            if base is None:
                with _reading(conn):
                    base = self._read(conn, key)
                changes = _Changes(wanted, frozenset())
                if not changes:
                    return
            saved = self._compare_and_set(conn, base, changes)
        self._reads.remember(request_envelope, saved)

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        """Forget everything about the requesting user (no-op without a user id)."""
        key = self._key_for(request_envelope)
        self._reads.forget(request_envelope)
        if key is not None:
            self.delete_user(key)

    # ---------------------------------------------------------------- maintenance

    def create_schema(self) -> None:
        """Create the table if it is missing; safe to call on every start-up.

        Two workers starting together can both see "no table" and race to create it;
        the loser's error is retried once, when the table is then found to exist.
        """
        self._schema_wanted = True
        _prepare_sqlite_folder(self._engine.url)  # again: it may have become possible
        failure: SQLAlchemyError | None = None
        for _attempt in range(2):
            try:
                metadata.create_all(self._engine, checkfirst=True)
                self._schema_ready = True
                self.outages.succeeded()
                return
            except SQLAlchemyError as exc:
                failure = exc
        assert failure is not None
        self.outages.failed("create_schema", failure)
        raise StoreUnavailable(f"create_schema failed: {_describe(failure)}") from failure

    def ping(self) -> bool:
        """True when a ``SELECT 1`` succeeds; never raises (it backs ``/healthz``).

        One pooled round trip, so a load balancer may call it often. A store whose schema
        is still missing (database was down at start-up) tries to create it here too.
        """
        try:
            self._ensure_schema()
            with self._engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except StoreUnavailable:
            return False
        except Exception as exc:  # a health probe must answer, whatever went wrong
            self.outages.failed("ping", exc)
            return False
        self.outages.succeeded()
        return True

    def delete_user(self, user_key: str) -> None:
        """Delete one user's row by hashed key (e.g. "forget me", SkillDisabled)."""
        with self._connection("delete_user", user_key) as conn, _writing(conn):
            conn.execute(sa.delete(user_state).where(user_state.c.user_key == user_key))
        log.debug("deleted state for user %s", _short(user_key))

    def row_count(self) -> int:
        """Number of users with saved state (tests and health output)."""
        with self._connection("row_count") as conn, _reading(conn):
            return conn.execute(sa.select(sa.func.count()).select_from(user_state)).scalar_one()

    def dispose(self) -> None:
        """Close pooled connections (app teardown, tests, after fork)."""
        self._reads.clear()
        self._engine.dispose()

    # ---------------------------------------------------------------- internals

    def _key_for(self, request_envelope: RequestEnvelope) -> str | None:
        user_id = alexa_user_id(request_envelope)
        return None if user_id is None else hash_user_id(user_id, self._key_secret)

    def _ensure_schema(self) -> None:
        """Create the schema now if start-up could not (raises StoreUnavailable)."""
        if self._schema_wanted and not self._schema_ready:
            self.create_schema()

    @contextmanager
    def _connection(self, operation: str, key: str | None = None) -> Iterator[Connection]:
        """A pooled connection whose SQLAlchemy errors become :class:`StoreUnavailable`.

        Failures are reported to :attr:`outages` (rate-limited logging), successes too,
        so the log says when the database is back.
        """
        self._ensure_schema()
        try:
            with self._engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            self.outages.failed(operation, exc, key)
            raise StoreUnavailable(f"{operation} failed: {_describe(exc)}") from exc
        self.outages.succeeded()

    def _read_sqlite(self, key: str) -> _Read:
        """The per-request read on SQLite, on the pooled DBAPI connection directly.

        One indexed SELECT costs SQLite about 15 us; going through SQLAlchemy Core costs
        ten times that, which was most of this store's share of a request. The pool,
        its connect-time pragmas and the error handling stay the same.
        """
        self._ensure_schema()
        try:
            raw = self._engine.raw_connection()
            try:
                cursor = raw.cursor()
                try:
                    cursor.execute(_SQLITE_SELECT, (key,))
                    row = cursor.fetchone()
                finally:
                    cursor.close()
            finally:
                raw.close()  # back to the pool
        except (SQLAlchemyError, sqlite3.Error) as exc:
            self.outages.failed("get_attributes", exc, key)
            raise StoreUnavailable(f"get_attributes failed: {_describe(exc)}") from exc
        self.outages.succeeded()
        if row is None:
            return _Read(key, 0, {})
        return _Read(key, row[0], json.loads(row[1]) or {})

    def _first_write_sqlite(self, base: _Read, changes: _Changes) -> _Read | None:
        """The common case on SQLite -- no other device wrote since our read -- as one
        compare-and-set on the pooled DBAPI connection (a tenth of Core's cost).

        Returns ``None`` when the race was lost, and the caller takes the locked
        read-merge-write path. Same statements, same columns, same JSON as that path.
        """
        self._ensure_schema()
        merged = changes.apply(base.attributes)
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        data = json.dumps(merged)
        try:
            raw = self._engine.raw_connection()
            try:
                cursor = raw.cursor()
                try:
                    cursor.execute("BEGIN IMMEDIATE")
                    if base.version == 0:
                        cursor.execute(_SQLITE_INSERT, (base.user_key, data, now))
                    else:
                        cursor.execute(_SQLITE_UPDATE, (data, base.version + 1, now,
                                                        base.user_key, base.version))
                    won = cursor.rowcount == 1
                    cursor.execute("COMMIT")
                except BaseException:
                    if raw.in_transaction:
                        cursor.execute("ROLLBACK")
                    raise
                finally:
                    cursor.close()
            finally:
                raw.close()
        except (SQLAlchemyError, sqlite3.Error) as exc:
            self.outages.failed("save_attributes", exc, base.user_key)
            raise StoreUnavailable(f"save_attributes failed: {_describe(exc)}") from exc
        self.outages.succeeded()
        return _Read(base.user_key, base.version + 1, merged) if won else None

    def _read(self, conn: Connection, key: str, *, lock: bool = False) -> _Read:
        """The row as it is now (version 0 and {} when there is none).

        ``lock`` adds ``FOR UPDATE`` on PostgreSQL, holding the row until the
        transaction ends; SQLite renders nothing for it and relies on BEGIN IMMEDIATE.
        """
        query = _SELECT_ROW_LOCKED if lock else _SELECT_ROW
        row = conn.execute(query, {"k": key}).one_or_none()
        if row is None:
            return _Read(key, 0, {})
        return _Read(key, row.version, dict(row.attributes or {}))

    def _compare_and_set(self, conn: Connection, base: _Read, changes: _Changes) -> _Read:
        """Write ``changes`` onto ``base``; after a lost race, read-merge-write locked.

        Retrying optimistically can livelock: two devices in step keep reading the
        same version and the same one keeps losing. The locked retry cannot be
        overtaken, except by another request inserting a brand-new user's first row
        (no row existed to lock on PostgreSQL); the next attempt then finds that row.
        """
        with _writing(conn):
            merged = changes.apply(base.attributes)
            if self._write(conn, base, merged):
                return _Read(base.user_key, base.version + 1, merged)
        for attempt in range(2, self.max_attempts + 1):
            log.debug("concurrent save for user %s, attempt %d", _short(base.user_key), attempt)
            with _writing(conn):
                current = self._read(conn, base.user_key, lock=True)
                merged = changes.apply(current.attributes)
                if self._write(conn, current, merged):
                    return _Read(current.user_key, current.version + 1, merged)
        raise StoreConflict(f"save gave up after {self.max_attempts} concurrent updates")

    def _write(self, conn: Connection, seen: _Read, attributes: dict[str, Any]) -> bool:
        """One atomic compare-and-set; False when the row is no longer as ``seen``.

        ``seen.version == 0`` means we saw no row: insert, unless someone else inserted
        first (ON CONFLICT DO NOTHING). Otherwise update only if the version is still
        the one we saw. A row deleted meanwhile ("forget me" on another device) also
        counts as a lost race, so a stale device cannot resurrect forgotten keys.
        """
        params = {"k": seen.user_key, "attrs": attributes, "now": dt.datetime.now(dt.UTC)}
        if seen.version == 0:
            statement = self._insert_row
        else:
            statement = _UPDATE_IF_VERSION
            params.update(seen=seen.version, next_version=seen.version + 1)
        # preserve_rowcount: without it SQLAlchemy reports -1 for an INSERT on psycopg.
        result = conn.execute(statement, params, execution_options={"preserve_rowcount": True})
        return result.rowcount == 1


def _describe(exc: BaseException) -> str:
    """Exception class and the driver's one-line reason, without SQL or parameters."""
    reason = getattr(exc, "orig", None) or exc
    first_line = str(reason).strip().splitlines()[0] if str(reason).strip() else ""
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
