"""Faults a published skill meets, each through the public app (POST /alexa) or process.

* The database is down at start-up, goes down mid-conversation, or hangs: the exercise
  still plays (with one "no history" sentence per session), the outage is logged once per
  interval instead of per request, and the database coming back is picked up without a
  restart. PostgreSQL faults are real: the driver talks to the server through a TCP proxy
  on 127.0.0.1 that the test stops, restarts, or turns into a silent black hole.
* Amazon's certificate download times out: that request is a 400, the next one downloads
  again (a failure is never cached) and succeeds.
* Broken content at start-up: the server process exits non-zero naming file and field.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.x509.verification import Store

from skill.app import create_app
from skill.content import ENV_VAR
from skill.envelopes import DEV_SKILL_ID, Conversation
from skill.store import OutageLog, UserStore
from skill.verification import fetch_over_https
from tests.alexa_limits import check_response
from tests.certs import pki, sign_body
from tests.conftest import Talk
from tests.conftest_store import require_postgres
from tests.netfaults import QuietServer, TcpProxy, free_port

REPO = Path(__file__).resolve().parent.parent
NO_HISTORY = "I can't reach your history right now"


def store_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records
        if r.name == "skill.store" and r.levelno >= logging.WARNING
    ]


_OPEN_APPS: list = []


def dev_app(tmp_path: Path, database_url: str):
    app = create_app({
        "DEV": True,
        "ALEXA_SKILL_ID": DEV_SKILL_ID,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
    })
    _OPEN_APPS.append(app)
    return app


@pytest.fixture(autouse=True)
def _close_databases() -> Iterator[None]:
    """Close each app's pooled connections at the end of its test."""
    yield
    while _OPEN_APPS:
        _OPEN_APPS.pop().extensions["breathing_room"].store.dispose()


def person(app) -> Talk:
    return Talk(app.test_client(), Conversation(skill_id=DEV_SKILL_ID))


def stored_visits(app, talk: Talk) -> int | None:
    store: UserStore = app.extensions["breathing_room"].store
    envelope = store_envelope(talk)
    return store.get_attributes(envelope).get("visits")


def store_envelope(talk: Talk):
    from tests.conftest_store import envelope_for

    return envelope_for(talk.c.user_id)


# ----------------------------------------------------------------- rate-limited logging


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_outage_is_logged_once_per_interval_and_recovery_once(caplog):
    clock = FakeClock()
    outages = OutageLog(interval=60, clock=clock)
    caplog.set_level(logging.DEBUG, logger="skill.store")
    error = sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

    for _ in range(5):
        outages.failed("get_attributes", error, "f" * 64)
    assert len(store_warnings(caplog)) == 1
    assert "get_attributes failed for user ffffffff" in store_warnings(caplog)[0]

    clock.now += 61
    outages.failed("save_attributes", error)
    assert len(store_warnings(caplog)) == 2
    assert "(4 more failures not logged)" in store_warnings(caplog)[1]

    outages.succeeded()
    outages.succeeded()
    assert store_warnings(caplog)[2:] == ["store is available again"]

    outages.failed("get_attributes", error)  # flapping within the interval: counted only
    outages.succeeded()
    assert len(store_warnings(caplog)) == 3


# ----------------------------------------------------------------- SQLite down at start


def test_sqlite_down_at_start_up_plays_and_recovers_without_restart(tmp_path, caplog):
    """The database folder cannot be created (a file is in the way): the skill starts,
    every exercise plays, one warning is logged; once the path is usable the schema is
    created and history works, in the same app."""
    blocker = tmp_path / "volume"
    blocker.write_text("not a folder yet")
    caplog.set_level(logging.INFO)
    app = dev_app(tmp_path, f"sqlite:///{blocker / 'db' / 'breathing-room.sqlite3'}")
    talk = person(app)

    talk.launch()
    assert NO_HISTORY in talk.text and talk.open
    talk.intent("GroundingIntent")
    assert NO_HISTORY not in talk.text  # said once per session, not every turn
    assert talk.session["routine"]["routine"] == "grounding"
    talk.intent("BreathingIntent", {"technique": ("box", "BOX")}, new_session=True)
    assert NO_HISTORY in talk.text and "box breathing" in talk.text
    assert app.test_client().get("/healthz").get_json()["database"] == "unavailable"
    assert len(store_warnings(caplog)) == 1, store_warnings(caplog)

    blocker.unlink()  # the volume appears: no restart
    talk.launch()
    assert NO_HISTORY not in talk.text
    assert stored_visits(app, talk) == 1
    assert store_warnings(caplog)[-1] == "store is available again"
    assert app.test_client().get("/healthz").get_json()["database"] == "ok"


# ----------------------------------------------------------------- PostgreSQL outages


@pytest.fixture
def pg_schema() -> Iterator[str]:
    url = require_postgres()
    schema = f"faults_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def pg_proxy() -> Iterator[TcpProxy]:
    server = sa.make_url(require_postgres())
    proxy = TcpProxy((server.host or "127.0.0.1", server.port or 5432))
    proxy.start("forward")
    try:
        yield proxy
    finally:
        proxy.stop()


def proxied_url(proxy: TcpProxy, schema: str) -> str:
    server = sa.make_url(require_postgres())
    return (
        f"postgresql+psycopg://{server.username}@127.0.0.1:{proxy.port}/{server.database}"
        f"?connect_timeout=2&options=-csearch_path%3D{schema}"
    )


@pytest.mark.postgres
def test_postgres_outage_mid_conversation(tmp_path, caplog, pg_schema, pg_proxy):
    """Up, then down (connections cut, port refusing), then hanging (connections
    accepted, never answered), then up again: the person hears every exercise and
    the history survives the outage."""
    caplog.set_level(logging.INFO)
    app = dev_app(tmp_path, proxied_url(pg_proxy, pg_schema))
    talk = person(app)
    talk.launch()
    assert NO_HISTORY not in talk.text
    talk.intent("BreathingIntent", {"technique": ("box", "BOX")})
    assert store_warnings(caplog) == []

    pg_proxy.stop()  # the server goes away mid-conversation
    talk.intent("AMAZON.StopIntent")
    talk.intent("GroundingIntent", new_session=True)
    assert NO_HISTORY in talk.text and talk.session["routine"]["routine"] == "grounding"
    talk.intent("AMAZON.NextIntent")
    assert NO_HISTORY not in talk.text and talk.open
    refused = store_warnings(caplog)
    assert len(refused) == 1, refused

    pg_proxy.start("blackhole")  # it accepts connections and never answers
    talk.intent("BreathingIntent", {"technique": ("box", "BOX")}, new_session=True)
    assert NO_HISTORY in talk.text and "box breathing" in talk.text
    assert store_warnings(caplog) == refused  # still within the interval: not logged again
    pg_proxy.stop()

    pg_proxy.start("forward")  # back: no restart, the pool reconnects
    talk.launch()
    assert NO_HISTORY not in talk.text
    assert stored_visits(app, talk) == 2  # the visit before the outage was kept
    assert store_warnings(caplog)[-1] == "store is available again"


@pytest.mark.postgres
def test_postgres_down_at_start_up_creates_schema_when_back(tmp_path, caplog, pg_schema):
    server = sa.make_url(require_postgres())
    proxy = TcpProxy((server.host or "127.0.0.1", server.port or 5432))  # not started
    try:
        app = dev_app(tmp_path, proxied_url(proxy, pg_schema))
        talk = person(app)
        talk.launch()
        assert NO_HISTORY in talk.text
        proxy.start("forward")
        talk.launch()
        assert NO_HISTORY not in talk.text
        assert stored_visits(app, talk) == 1
    finally:
        proxy.stop()


# ----------------------------------------------------------------- certificate download


class _CertServer(BaseHTTPRequestHandler):
    """Stands in for s3.amazonaws.com: the first download hangs, later ones succeed."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        server = self.server
        server.hits.append(self.path)  # type: ignore[attr-defined]
        if len(server.hits) == 1:  # type: ignore[attr-defined]
            server.release.wait(10)  # type: ignore[attr-defined]
            return
        body = pki().chain
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def cert_server() -> Iterator[ThreadingHTTPServer]:
    server = QuietServer(("127.0.0.1", 0), _CertServer)
    server.hits = []  # type: ignore[attr-defined]
    server.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.release.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
        thread.join()


def test_certificate_download_timeout_is_400_then_retried(tmp_path, cert_server):
    """Through POST /alexa with the real downloader (its timeout included), aimed at a
    local server instead of Amazon's bucket: a hung download fails that request only."""
    skill_id = "amzn1.ask.skill.11111111-2222-3333-4444-555555555555"
    base = f"http://127.0.0.1:{cert_server.server_address[1]}"

    def to_local_bucket(url: str, timeout: float) -> bytes:
        return fetch_over_https(base + url.split("s3.amazonaws.com", 1)[1], timeout)

    app = create_app({
        "ALEXA_SKILL_ID": skill_id,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "INSTANCE_PATH": str(tmp_path),
        "TRUST_STORE": Store([pki().root.cert]),
        "CERT_FETCHER": to_local_bucket,
    })
    client = app.test_client()

    def post():
        body = json.dumps(Conversation(skill_id=skill_id).launch()).encode()
        headers = {
            "SignatureCertChainUrl": "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
            "Signature-256": sign_body(pki().leaf.key, body),
            "Content-Type": "application/json",
        }
        return client.post("/alexa", data=body, headers=headers)

    first = post()
    assert first.status_code == 400
    assert first.get_json()["reason"] == "could not download the signing certificate: timed out"
    second = post()
    assert second.status_code == 200, second.get_json()
    check_response(second.get_json())
    assert post().status_code == 200
    assert cert_server.hits == ["/echo.api/echo-api-cert.pem"] * 2  # success cached, not failure


# ----------------------------------------------------------------- broken content


def test_broken_content_stops_the_server_with_file_and_field(tmp_path):
    broken = tmp_path / "content"
    shutil.copytree(REPO / "content", broken)
    voice = broken / "en-US" / "voice.yaml"
    text = voice.read_text()
    assert "pace" in text or "rate" in text or text  # the file exists and has content
    voice.write_text(text + "\nnot_a_field_we_know: 1\n")
    env = {**os.environ, ENV_VAR: str(broken), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = subprocess.run(
        [sys.executable, "-m", "skill.cli", "serve", "--dev", "--port", str(free_port())],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "voice.yaml" in result.stderr
    assert "not_a_field_we_know" in result.stderr


# ----------------------------------------------------------------- audio manifest


@pytest.mark.parametrize("manifest", [None, "{not json", '{"version": 99}', "[]"])
def test_missing_or_corrupt_audio_manifest_speaks_text(tmp_path, manifest):
    audio = tmp_path / "audio"
    audio.mkdir()
    if manifest is not None:
        (audio / "manifest.json").write_text(manifest)
    app = create_app({
        "DEV": True, "ALEXA_SKILL_ID": DEV_SKILL_ID, "AUDIO_DIR": str(audio),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "INSTANCE_PATH": str(tmp_path),
    })
    _OPEN_APPS.append(app)
    talk = person(app)
    talk.intent("BreathingIntent", {"technique": ("box", "BOX"), "minutes": "10"})
    assert "<audio" not in talk.ssml
    assert "Breathe in" in talk.text and "<break" in talk.ssml
