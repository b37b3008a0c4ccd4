"""Production serving: ``breathing-room serve`` really runs gunicorn on 127.0.0.1.

One server process per test module (starting one costs about a second): it must answer
health checks, verify requests (production mode), keep user ids and query strings out of
the access log, and stop cleanly with exit status 0 on SIGTERM.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skill.envelopes import Conversation
from skill.serving import ACCESS_LOG_FORMAT, default_workers, gunicorn_options
from tests.netfaults import free_port

REPO = Path(__file__).resolve().parent.parent
SKILL_ID = "amzn1.ask.skill.11111111-2222-3333-4444-555555555555"
USER_ID = "amzn1.ask.account.AFSERVINGTESTUSERIDNEVERLOGGED42"


def wait_until_serving(port: int, process: subprocess.Popen, limit: float = 30.0) -> None:
    """Poll /healthz until it answers; fail early if the process died (bounded)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode} before serving")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail("server did not answer /healthz in time")


def request(port: int, method: str, path: str, body: bytes | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A production-mode server with one worker; yields (port, process, log path)."""
    tmp = tmp_path_factory.mktemp("serving")
    port = free_port()
    log_path = tmp / "server.log"
    env = {
        **os.environ,
        "ALEXA_SKILL_ID": SKILL_ID,
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "skill.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(port, process)
        yield port, process, log_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_health_reports_the_database(served):
    port, _, _ = served
    status, body = request(port, "GET", "/healthz")
    assert status == 200
    assert json.loads(body)["database"] == "ok"


def test_production_mode_refuses_unsigned_requests(served):
    port, _, _ = served
    body = json.dumps(Conversation(USER_ID, skill_id=SKILL_ID).launch()).encode()
    status, reply = request(port, "POST", "/alexa?user=" + USER_ID, body)
    assert status == 400
    assert json.loads(reply)["reason"] == "missing SignatureCertChainUrl header"


def test_sigterm_stops_gracefully_and_logs_hold_no_user_ids(served):
    port, process, log_path = served
    assert request(port, "GET", "/healthz")[0] == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    log = log_path.read_text()
    assert '"GET /healthz" 200' in log
    assert '"POST /alexa" 400' in log  # the path without its query string
    assert USER_ID not in log
    assert "Handling signal: term" in log and "Shutting down: Master" in log


def test_every_run_uses_the_same_gunicorn_settings():
    options = gunicorn_options("127.0.0.1:9", None)
    assert options["workers"] == default_workers() >= 1
    assert options["preload_app"] is True
    assert options["access_log_format"] == ACCESS_LOG_FORMAT
    assert "%(h)s" not in ACCESS_LOG_FORMAT and "%(r)s" not in ACCESS_LOG_FORMAT
    assert "%(q)s" not in ACCESS_LOG_FORMAT and "%(U)s" in ACCESS_LOG_FORMAT
    assert options["timeout"] < 30 and options["graceful_timeout"] <= 10


def test_serve_refuses_to_start_without_a_skill_id(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "ALEXA_SKILL_ID"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-m", "skill.cli", "serve", "--host", "127.0.0.1",
         "--port", str(free_port())],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "ALEXA_SKILL_ID is not set" in result.stderr


def test_init_db_creates_the_schema_or_fails_clearly(tmp_path):
    import sqlalchemy as sa

    database = tmp_path / "new" / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    result = subprocess.run([sys.executable, "-m", "skill.cli", "init-db"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        assert "user_state" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()

    env["DATABASE_URL"] = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    result = subprocess.run([sys.executable, "-m", "skill.cli", "init-db"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "database not ready" in result.stderr
