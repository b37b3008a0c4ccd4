"""A real HTTPS server on 127.0.0.1 standing in for Alexa's APIs (reminders, settings).

Tests put its address in the envelope's ``apiEndpoint``, exactly where Alexa puts its own,
so the skill's production code path (ask-sdk service clients over our timed API client)
is the one exercised. The server checks what Amazon would check -- method, path, bearer
token, body shape -- and answers 400 with the problem when something is off, so a wrong
call fails the test instead of passing silently.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.certs import pem_chain, pki

TOKEN = "test-api-access-token"
_REMINDER_PATH = re.compile(r"/v1/alerts/reminders(?:/(?P<token>[\w-]+))?")
_ZONE_PATH = re.compile(r"/v2/devices/(?P<device>[^/]+)/settings/System\.timeZone")


def reminder_problems(body: object) -> list[str]:
    """What is wrong with a reminder body, by the Reminders API reference."""
    problems = []
    if not isinstance(body, dict):
        return ["body is not a JSON object"]
    trigger = body.get("trigger") or {}
    if trigger.get("type") != "SCHEDULED_ABSOLUTE":
        problems.append("trigger.type must be SCHEDULED_ABSOLUTE")
    if not trigger.get("timeZoneId"):
        problems.append("trigger.timeZoneId is required")
    rules = (trigger.get("recurrence") or {}).get("recurrenceRules") or []
    if not rules or not all(isinstance(r, str) and r.startswith("FREQ=") for r in rules):
        problems.append("trigger.recurrence.recurrenceRules must hold RRULE strings")
    if not (trigger.get("recurrence") or {}).get("startDateTime"):
        problems.append("trigger.recurrence.startDateTime is required")
    content = ((body.get("alertInfo") or {}).get("spokenInfo") or {}).get("content") or []
    if not content or not content[0].get("text") or not content[0].get("locale"):
        problems.append("alertInfo.spokenInfo.content needs locale and text")
    if not body.get("requestTime"):
        problems.append("requestTime is required")
    return problems


@dataclass
class FakeAlexaApi:
    """State of the fake service; tests read ``calls`` and ``reminders``, and queue
    failures with ``fail_next(status)``."""

    url: str = ""
    ca_file: str = ""
    time_zone: str = "America/Los_Angeles"
    calls: list = field(default_factory=list)
    reminders: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    counter: int = 0

    def reset(self) -> None:
        self.calls.clear()
        self.reminders.clear()
        self.failures.clear()
        self.time_zone = "America/Los_Angeles"
        self.counter = 0

    def fail_next(self, status: int, path: str = "/v1/alerts/reminders") -> None:
        """The next call whose path starts with ``path`` answers ``status``."""
        self.failures.append((status, path))

    def reminder_calls(self) -> list:
        return [c for c in self.calls if c[1].startswith("/v1/alerts/reminders")]


class _Handler(BaseHTTPRequestHandler):
    api: FakeAlexaApi

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _send(self, status: int, payload: object = None) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        api = self.server.api  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        api.calls.append((self.command, self.path, body, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._send(401, {"code": "UNAUTHORIZED", "message": "bad token"})
        for queued in api.failures:
            if self.path.startswith(queued[1]):
                api.failures.remove(queued)
                return self._send(queued[0], {"code": "ERROR", "message": "queued"})
        zone = _ZONE_PATH.fullmatch(self.path)
        if zone and self.command == "GET":
            return self._send(200, api.time_zone)
        match = _REMINDER_PATH.fullmatch(self.path)
        if not match:
            return self._send(404, {"code": "NOT_FOUND", "message": self.path})
        token = match.group("token")
        if self.command == "POST" and token is None:
            problems = reminder_problems(body)
            if problems:
                return self._send(400, {"code": "INVALID_REQUEST", "message": "; ".join(problems)})
            api.counter += 1
            new = f"alert-{api.counter}"
            api.reminders[new] = body
            return self._send(200, {"alertToken": new, "status": "ON"})
        if token is None or token not in api.reminders:
            return self._send(404, {"code": "NOT_FOUND", "message": "no such reminder"})
        if self.command == "PUT":
            problems = reminder_problems(body)
            if problems:
                return self._send(400, {"code": "INVALID_REQUEST", "message": "; ".join(problems)})
            api.reminders[token] = body
            return self._send(200, {"alertToken": token, "status": "ON"})
        if self.command == "DELETE":
            del api.reminders[token]
            return self._send(200, None)
        return self._send(405, {"code": "METHOD", "message": self.command})

    do_GET = do_POST = do_PUT = do_DELETE = _handle


def start(folder: Path) -> tuple[FakeAlexaApi, ThreadingHTTPServer, threading.Thread]:
    """Start the server with a certificate for ``localhost`` from the test CA."""
    p = pki()
    cert_file, key_file, ca_file = folder / "api.pem", folder / "api.key", folder / "ca.pem"
    cert_file.write_bytes(pem_chain(p.localhost, p.intermediate))
    key_file.write_bytes(p.localhost.key_pem())
    ca_file.write_bytes(p.root.pem)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file, key_file)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    api = FakeAlexaApi(url=f"https://localhost:{server.server_address[1]}", ca_file=str(ca_file))
    server.api = api  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    return api, server, thread
