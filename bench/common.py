"""Shared by the HTTP benchmarks: start a gunicorn server on 127.0.0.1, wait for it, stop
it with SIGTERM, and post JSON over one keep-alive connection per simulated client."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``bench/apps.py --app NAME`` in a subprocess; output goes to ``log``."""

    def __init__(self, app: str, *, workers: int | None, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        command = [sys.executable, str(ROOT / "bench" / "apps.py"), "--app", app,
                   "--port", str(self.port)]
        if workers:
            command += ["--workers", str(workers)]
        self.started = time.perf_counter()
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env={**os.environ, **env}, stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, limit: float = 60.0) -> float:
        """Seconds from process start until ``/healthz`` answers 200 (bounded)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("server did not become ready")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=10)


class Client:
    """One simulated device: a keep-alive connection, reconnecting when the server closes."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """One request; gunicorn's sync workers answer ``Connection: close``, after which
        http.client opens a fresh connection for the next request by itself. Errors are
        raised, never retried (a retry could deliver a request twice)."""
        try:
            self.conn.request("POST", "/alexa", body=body, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise

    def close(self) -> None:
        self.conn.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]
