"""Tests for skill.store, run against SQLite and PostgreSQL.

The ``store`` and ``store_backend`` fixtures come from tests/conftest_store.py (imported by
tests/conftest.py) and run every test using them once per backend.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from ask_sdk_core.attributes_manager import AttributesManager
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope

from skill.store import (
    StoreConflict,
    StoreUnavailable,
    UserStore,
    default_database_url,
    normalize_database_url,
    user_key,
)
from tests.conftest_store import SKILL_ID, StoreBackend, envelope_for

RAW_ID = "amzn1.ask.account.AFRAWUSERIDSHOULDNEVERBESTORED7Q3"
OTHER_ID = "amzn1.ask.account.AFANOTHERPERSON0000000000000000"


def unreachable_url(backend: StoreBackend, tmp_path: Path) -> tuple[str, dict]:
    """A URL of the same backend that cannot possibly be opened."""
    if backend.name == "sqlite":
        blocker = tmp_path / "a-file-not-a-folder"
        blocker.write_text("")
        return f"sqlite:///{blocker / 'nested' / 'db.sqlite3'}", {}
    return (
        "postgresql+psycopg://postgres@127.0.0.1:1/test",
        {"connect_args": {"connect_timeout": 1}},
    )


# ----------------------------------------------------------------- round trips


def test_round_trip(store: UserStore) -> None:
    attributes = {
        "routine": {"name": "box", "position": 3, "pace": 6},
        "last_technique": "BOX",
        "reflection_index": 2,
        "helped": ["BOX", "GROUNDING"],
    }
    store.save_attributes(envelope_for(RAW_ID), attributes)

    assert store.get_attributes(envelope_for(RAW_ID)) == attributes
    assert store.row_count() == 1


def test_new_user_gets_empty_dict(store: UserStore) -> None:
    assert store.get_attributes(envelope_for(RAW_ID)) == {}
    assert store.row_count() == 0


def test_users_are_kept_apart(store: UserStore) -> None:
    store.save_attributes(envelope_for(RAW_ID), {"pace": "SLOWER"})
    store.save_attributes(envelope_for(OTHER_ID), {"pace": "FASTER"})

    assert store.get_attributes(envelope_for(RAW_ID)) == {"pace": "SLOWER"}
    assert store.get_attributes(envelope_for(OTHER_ID)) == {"pace": "FASTER"}


def test_returned_dict_is_the_callers_to_mutate(store: UserStore) -> None:
    envelope = envelope_for(RAW_ID)
    store.save_attributes(envelope, {"routine": {"position": 1}})
    first = store.get_attributes(envelope)
    first["routine"]["position"] = 2

    store.save_attributes(envelope, first)

    assert store.get_attributes(envelope_for(RAW_ID)) == {"routine": {"position": 2}}


def test_audio_player_event_from_json(store: UserStore) -> None:
    """AudioPlayer events have no session; the user comes from context.System."""
    body = {
        "version": "1.0",
        "context": {
            "System": {
                "application": {"applicationId": SKILL_ID},
                "user": {"userId": RAW_ID},
                "device": {"deviceId": "device-1", "supportedInterfaces": {}},
            },
            "AudioPlayer": {
                "playerActivity": "STOPPED",
                "token": "box-6",
                "offsetInMilliseconds": 0,
            },
        },
        "request": {
            "type": "AudioPlayer.PlaybackStopped",
            "requestId": "req-1",
            "timestamp": "2024-01-01T00:00:00Z",
            "locale": "en-US",
            "token": "box-6",
            "offsetInMilliseconds": 42000,
        },
    }
    envelope = DefaultSerializer().deserialize(payload=json.dumps(body), obj_type=RequestEnvelope)
    assert envelope.session is None

    store.save_attributes(envelope, {"paused": {"token": "box-6", "offset_ms": 42000}})

    assert store.get_attributes(envelope_for(RAW_ID)) == {
        "paused": {"token": "box-6", "offset_ms": 42000}
    }


def test_through_ask_sdk_attributes_manager(store: UserStore) -> None:
    manager = AttributesManager(envelope_for(RAW_ID), persistence_adapter=store)
    manager.persistent_attributes["last_technique"] = "RESONANCE"
    manager.save_persistent_attributes()

    again = AttributesManager(envelope_for(RAW_ID), persistence_adapter=store)
    assert again.persistent_attributes == {"last_technique": "RESONANCE"}
    again.delete_persistent_attributes()

    assert store.row_count() == 0


# ----------------------------------------------------------------- no user


@pytest.mark.parametrize(
    "envelope",
    [
        pytest.param(envelope_for(None), id="system-without-user"),
        pytest.param(RequestEnvelope(version="1.0"), id="no-context"),
        pytest.param(envelope_for(""), id="empty-user-id"),
    ],
)
def test_missing_user_has_no_state(store: UserStore, envelope: RequestEnvelope) -> None:
    assert store.get_attributes(envelope) == {}
    store.save_attributes(envelope, {"pace": "SLOWER"})
    store.delete_attributes(envelope)

    assert store.row_count() == 0


# ----------------------------------------------------------------- deleting


def test_delete_attributes(store: UserStore) -> None:
    store.save_attributes(envelope_for(RAW_ID), {"pace": "SLOWER"})
    store.save_attributes(envelope_for(OTHER_ID), {"pace": "FASTER"})

    store.delete_attributes(envelope_for(RAW_ID))

    assert store.get_attributes(envelope_for(RAW_ID)) == {}
    assert store.get_attributes(envelope_for(OTHER_ID)) == {"pace": "FASTER"}
    assert store.row_count() == 1


def test_delete_user_by_hashed_key(store: UserStore) -> None:
    store.save_attributes(envelope_for(RAW_ID), {"pace": "SLOWER"})
    store.save_attributes(envelope_for(OTHER_ID), {"pace": "FASTER"})

    store.delete_user(user_key(envelope_for(RAW_ID)))
    store.delete_user(user_key(envelope_for("amzn1.ask.account.never-seen")))

    assert store.get_attributes(envelope_for(RAW_ID)) == {}
    assert store.row_count() == 1


def test_save_after_delete_by_the_same_request_starts_fresh(store: UserStore) -> None:
    envelope = envelope_for(RAW_ID)
    store.save_attributes(envelope, {"pace": "SLOWER", "last_technique": "BOX"})
    store.get_attributes(envelope)
    store.delete_attributes(envelope)

    store.save_attributes(envelope, {"pace": "FASTER"})

    assert store.get_attributes(envelope_for(RAW_ID)) == {"pace": "FASTER"}


# ----------------------------------------------------------------- schema


def test_create_schema_twice_is_fine(store_backend: StoreBackend) -> None:
    first = store_backend.open()
    second = store_backend.open()
    try:
        first.create_schema()
        first.save_attributes(envelope_for(RAW_ID), {"pace": "SLOWER"})
        first.create_schema()
        second.create_schema()

        assert second.get_attributes(envelope_for(RAW_ID)) == {"pace": "SLOWER"}
    finally:
        first.dispose()
        second.dispose()


# ----------------------------------------------------------------- privacy


def test_raw_user_id_is_never_stored_or_logged(
    store: UserStore, store_backend: StoreBackend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    envelope = envelope_for(RAW_ID)
    store.save_attributes(envelope, {"pace": "SLOWER"})
    store.get_attributes(envelope)
    store.save_attributes(envelope, {"pace": "FASTER"})

    rows = store_backend.execute(f"SELECT user_key, attributes, version FROM {store_backend.table}")

    assert len(rows) == 1
    assert rows[0].user_key == user_key(envelope)
    assert RAW_ID not in repr(rows)
    assert RAW_ID not in caplog.text
    if store_backend.name == "sqlite":
        store.dispose()
        folder = Path(sa.make_url(store_backend.url).database).parent
        for path in folder.iterdir():  # the database, its WAL and shared-memory files
            assert RAW_ID.encode() not in path.read_bytes(), path.name


def test_key_secret_salts_the_key(store_backend: StoreBackend) -> None:
    salted = store_backend.open(key_secret="pepper")
    try:
        salted.create_schema()
        salted.save_attributes(envelope_for(RAW_ID), {"pace": "SLOWER"})
        rows = store_backend.execute(f"SELECT user_key FROM {store_backend.table}")

        assert [row.user_key for row in rows] == [user_key(envelope_for(RAW_ID), "pepper")]
        assert rows[0].user_key != user_key(envelope_for(RAW_ID))
    finally:
        salted.dispose()


# ----------------------------------------------------------------- concurrency


def test_concurrent_writers_lose_no_update(store: UserStore) -> None:
    """Two devices of one person, each a read-modify-write loop on its own keys."""
    rounds = 50
    start = threading.Barrier(2)

    def device(name: str) -> None:
        start.wait()
        for i in range(1, rounds + 1):
            envelope = envelope_for(RAW_ID)
            attributes = store.get_attributes(envelope)
            attributes[f"{name}_count"] = attributes.get(f"{name}_count", 0) + 1
            attributes[f"{name}_last"] = f"{name}-{i}"
            store.save_attributes(envelope, attributes)

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(device, name) for name in ("kitchen", "bedroom")]
        for future in futures:
            future.result()

    assert store.get_attributes(envelope_for(RAW_ID)) == {
        "kitchen_count": rounds,
        "kitchen_last": f"kitchen-{rounds}",
        "bedroom_count": rounds,
        "bedroom_last": f"bedroom-{rounds}",
    }


def test_stale_save_merges_onto_the_other_devices_keys(store: UserStore) -> None:
    store.save_attributes(envelope_for(RAW_ID), {"pace": "SLOWER", "reflection_index": 0})
    kitchen, bedroom = envelope_for(RAW_ID), envelope_for(RAW_ID)
    kitchen_view = store.get_attributes(kitchen)
    bedroom_view = store.get_attributes(bedroom)

    kitchen_view["reflection_index"] = 1
    store.save_attributes(kitchen, kitchen_view)
    bedroom_view["last_technique"] = "BOX"
    store.save_attributes(bedroom, bedroom_view)

    assert store.get_attributes(envelope_for(RAW_ID)) == {
        "pace": "SLOWER",
        "reflection_index": 1,
        "last_technique": "BOX",
    }


def test_same_key_last_writer_wins(store: UserStore) -> None:
    kitchen, bedroom = envelope_for(RAW_ID), envelope_for(RAW_ID)
    kitchen_view = store.get_attributes(kitchen)
    bedroom_view = store.get_attributes(bedroom)

    store.save_attributes(kitchen, {**kitchen_view, "pace": "SLOWER"})
    store.save_attributes(bedroom, {**bedroom_view, "pace": "FASTER"})

    assert store.get_attributes(envelope_for(RAW_ID)) == {"pace": "FASTER"}


def test_removed_key_stays_removed_after_a_merge(store: UserStore) -> None:
    store.save_attributes(envelope_for(RAW_ID), {"paused": {"offset_ms": 9000}, "pace": "SLOWER"})
    kitchen, bedroom = envelope_for(RAW_ID), envelope_for(RAW_ID)
    kitchen_view = store.get_attributes(kitchen)
    bedroom_view = store.get_attributes(bedroom)

    store.save_attributes(bedroom, {**bedroom_view, "last_technique": "BOX"})
    del kitchen_view["paused"]
    store.save_attributes(kitchen, kitchen_view)

    assert store.get_attributes(envelope_for(RAW_ID)) == {
        "pace": "SLOWER",
        "last_technique": "BOX",
    }


def test_save_without_a_read_merges_its_keys(store: UserStore) -> None:
    store.save_attributes(envelope_for(RAW_ID), {"pace": "SLOWER"})

    store.save_attributes(envelope_for(RAW_ID), {"last_technique": "BOX"})

    assert store.get_attributes(envelope_for(RAW_ID)) == {
        "pace": "SLOWER",
        "last_technique": "BOX",
    }


def test_unchanged_save_writes_nothing(store: UserStore, store_backend: StoreBackend) -> None:
    store.save_attributes(envelope_for(RAW_ID), {"pace": "SLOWER"})
    envelope = envelope_for(RAW_ID)

    store.save_attributes(envelope, store.get_attributes(envelope))

    rows = store_backend.execute(f"SELECT version FROM {store_backend.table}")
    assert [row.version for row in rows] == [1]


def test_stale_device_does_not_resurrect_forgotten_state(store: UserStore) -> None:
    store.save_attributes(envelope_for(RAW_ID), {"helped": ["BOX"], "pace": "SLOWER"})
    stale = envelope_for(RAW_ID)
    stale_view = store.get_attributes(stale)

    store.delete_attributes(envelope_for(RAW_ID))  # "forget me" on another device
    store.save_attributes(stale, {**stale_view, "last_technique": "BOX"})

    assert store.get_attributes(envelope_for(RAW_ID)) == {"last_technique": "BOX"}


def test_gives_up_with_store_conflict(store: UserStore) -> None:
    store.max_attempts = 1
    stale = envelope_for(RAW_ID)
    stale_view = store.get_attributes(stale)
    store.save_attributes(envelope_for(RAW_ID), {"pace": "SLOWER"})

    with pytest.raises(StoreConflict):
        store.save_attributes(stale, {**stale_view, "pace": "FASTER"})

    assert issubclass(StoreConflict, StoreUnavailable)
    assert store.get_attributes(envelope_for(RAW_ID)) == {"pace": "SLOWER"}


def test_attributes_that_json_cannot_hold_are_a_caller_bug(store: UserStore) -> None:
    with pytest.raises(TypeError):
        store.save_attributes(envelope_for(RAW_ID), {"when": object()})


# ----------------------------------------------------------------- health and outages


def test_ping_true(store: UserStore) -> None:
    assert store.ping() is True


def test_ping_false_when_unreachable(store_backend: StoreBackend, tmp_path: Path) -> None:
    url, options = unreachable_url(store_backend, tmp_path)
    broken = UserStore(url, engine_options=options)
    try:
        assert broken.ping() is False
    finally:
        broken.dispose()


def test_unreachable_database_raises_store_unavailable(
    store_backend: StoreBackend, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url, options = unreachable_url(store_backend, tmp_path)
    broken = UserStore(url, engine_options=options)
    envelope = envelope_for(RAW_ID)
    calls = [
        broken.create_schema,
        lambda: broken.get_attributes(envelope),
        lambda: broken.save_attributes(envelope, {"pace": "SLOWER"}),
        lambda: broken.delete_attributes(envelope),
        lambda: broken.delete_user("0" * 64),
        broken.row_count,
    ]
    try:
        for call in calls:
            with pytest.raises(StoreUnavailable) as raised:
                call()
            assert isinstance(raised.value.__cause__, sa.exc.SQLAlchemyError)
    finally:
        broken.dispose()
    assert RAW_ID not in caplog.text


def test_database_gone_raises_store_unavailable(
    store: UserStore, store_backend: StoreBackend
) -> None:
    envelope = envelope_for(RAW_ID)
    store.save_attributes(envelope, {"pace": "SLOWER"})
    store.get_attributes(envelope)
    store_backend.execute(f"DROP TABLE {store_backend.table}")

    for call in (
        lambda: store.get_attributes(envelope_for(RAW_ID)),
        lambda: store.save_attributes(envelope, {"pace": "FASTER"}),
        lambda: store.delete_user(user_key(envelope)),
        store.row_count,
    ):
        with pytest.raises(StoreUnavailable) as raised:
            call()
        assert not isinstance(raised.value, sa.exc.SQLAlchemyError)
        assert RAW_ID not in str(raised.value)
    assert store.ping() is True  # the server is up; only the table is gone


# ----------------------------------------------------------------- backend specifics


def test_sqlite_connections_use_wal_busy_timeout_and_normal_sync(tmp_path: Path) -> None:
    user_store = UserStore(default_database_url(tmp_path / "instance" / "nested"))
    try:
        user_store.create_schema()
        with user_store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        user_store.dispose()
    assert (tmp_path / "instance" / "nested" / "breathing-room.sqlite3").is_file()


def test_sqlite_in_memory_is_shared_between_threads() -> None:
    user_store = UserStore("sqlite://")
    try:
        user_store.create_schema()
        with ThreadPoolExecutor(max_workers=1) as pool:
            envelope = envelope_for(RAW_ID)
            pool.submit(user_store.save_attributes, envelope, {"pace": "SLOWER"}).result()
        assert user_store.get_attributes(envelope_for(RAW_ID)) == {"pace": "SLOWER"}
    finally:
        user_store.dispose()


def test_postgres_engine_defaults_and_option_overrides() -> None:
    user_store = UserStore(
        "postgresql://app:secret@db.invalid/breathing",
        engine_options={"pool_size": 2, "connect_args": {"application_name": "br"}},
    )
    try:
        engine = user_store.engine
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.pool.size() == 2
        assert engine.pool._pre_ping is True
        assert "secret" not in repr(user_store)
    finally:
        user_store.dispose()


# ----------------------------------------------------------------- keys and URLs


def test_user_key_is_stable_hex_and_not_the_id() -> None:
    key = user_key(envelope_for(RAW_ID))

    assert key == user_key(envelope_for(RAW_ID))
    assert len(key) == 64 and int(key, 16) >= 0
    assert RAW_ID not in key
    assert key != user_key(envelope_for(OTHER_ID))
    assert key != user_key(envelope_for(RAW_ID), secret="pepper")
    assert user_key(envelope_for(RAW_ID), "pepper") == user_key(envelope_for(RAW_ID), b"pepper")


def test_user_key_needs_a_user() -> None:
    with pytest.raises(ValueError):
        user_key(envelope_for(None))


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///x.sqlite3", "sqlite"),
    ],
)
def test_normalize_database_url(given: str, driver: str) -> None:
    assert normalize_database_url(given).drivername == driver


def test_bad_urls_are_configuration_errors() -> None:
    with pytest.raises(ValueError) as raised:
        normalize_database_url("not a url at all: password=hunter2")
    assert "hunter2" not in str(raised.value)
    with pytest.raises(ValueError, match="unsupported"):
        UserStore("mysql://u@h/db")


def test_default_database_url(tmp_path: Path) -> None:
    url = default_database_url(tmp_path / "instance")

    assert url == f"sqlite:///{tmp_path / 'instance' / 'breathing-room.sqlite3'}"
    assert not (tmp_path / "instance").exists()  # the store creates it, not the URL
    assert os.path.isabs(sa.make_url(url).database)


# ----------------------------------------------------------------- timeouts


@pytest.mark.postgres
def test_postgres_statements_time_out_and_keep_the_callers_options() -> None:
    from tests.conftest_store import require_postgres

    user_store = UserStore(
        require_postgres(), engine_options={"connect_args": {"options": "-c work_mem=8MB"}}
    )
    try:
        with user_store.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "2s"
            assert conn.exec_driver_sql("SHOW work_mem").scalar() == "8MB"
    finally:
        user_store.dispose()


def test_postgres_connect_timeout_default_and_url_override() -> None:
    from skill.store import PG_CONNECT_TIMEOUT_S, _engine_options

    default = _engine_options(normalize_database_url("postgresql://u@h/db"), None)
    assert default["connect_args"]["connect_timeout"] == PG_CONNECT_TIMEOUT_S
    assert default["pool_timeout"] + PG_CONNECT_TIMEOUT_S < 8  # inside Alexa's budget
    in_url = _engine_options(
        normalize_database_url("postgresql://u@h/db?connect_timeout=1&options=-cwork_mem%3D8MB"),
        None,
    )
    assert "connect_timeout" not in in_url["connect_args"]  # the URL's value is used
    assert in_url["connect_args"]["options"] == "-c statement_timeout=2000 -cwork_mem=8MB"
