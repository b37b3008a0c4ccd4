"""Production serving on gunicorn: the same app factory, several worker processes.

Workers are stateless (all state is in the session envelope or the database), so any
worker can answer any request. The app is built once in the master before any worker
starts (``preload_app``): a missing skill id or broken content stops the command with a
clear message instead of a crash loop of workers, and workers start in milliseconds.
The master's database connections are closed before forking, so no worker shares a
socket with another. gunicorn handles SIGTERM gracefully: workers finish the request in
hand (up to ``graceful_timeout``) and the master exits 0.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

#: The access log shows method, path (no query string), status, size and time only: no
#: client address, no headers, no bodies, so no user ids or tokens can reach it.
ACCESS_LOG_FORMAT = '"%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def default_workers() -> int:
    """``WEB_CONCURRENCY`` when set (containers see the host's cores), else gunicorn's
    usual rule for sync workers: two per core, plus one."""
    configured = os.environ.get("WEB_CONCURRENCY", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return multiprocessing.cpu_count() * 2 + 1


def gunicorn_options(bind: str, workers: int | None = None, **extra: Any) -> dict[str, Any]:
    """The settings every gunicorn run of this project uses (benchmarks included)."""
    options: dict[str, Any] = {
        "bind": bind,
        "workers": workers or default_workers(),
        "worker_class": "sync",
        "preload_app": True,
        "graceful_timeout": 10,
        # Alexa waits 8 s; a worker silent for much longer than that is stuck: replace it.
        "timeout": 15,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
    }
    options.update(extra)
    return options


class GunicornApp(BaseApplication):
    """Runs an already-built WSGI app under gunicorn with the given settings."""

    def __init__(self, application: Callable, options: dict[str, Any]) -> None:
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Callable:
        return self.application


def release_connections(app: Any) -> None:
    """Close the master's pooled database connections before workers fork."""
    service = getattr(app, "extensions", {}).get("breathing_room")
    if service is not None:
        service.store.dispose()


def run_gunicorn(host: str, port: int, workers: int | None) -> int:
    from .app import create_app

    app = create_app()
    release_connections(app)
    GunicornApp(app, gunicorn_options(f"{host}:{port}", workers)).run()
    return 0
