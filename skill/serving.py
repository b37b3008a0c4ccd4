"""Production serving on gunicorn: the same app factory, several worker processes.

Workers are stateless (all state is in the session envelope or the database), so any
worker can answer any request. gunicorn handles SIGTERM gracefully: in-flight requests
finish before a worker exits.
"""

from __future__ import annotations

import multiprocessing

from gunicorn.app.base import BaseApplication


def default_workers() -> int:
    return multiprocessing.cpu_count() * 2 + 1


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from .app import create_app

        return create_app()


def run_gunicorn(host: str, port: int, workers: int | None) -> int:
    # Build the app once in the parent first, so a missing skill id or broken content stops
    # the command with a clear message instead of a crash loop of workers.
    from .app import create_app

    create_app()
    options = {
        "bind": f"{host}:{port}",
        "workers": workers or default_workers(),
        "graceful_timeout": 10,
        "timeout": 30,
        # The access log shows method, path, status and timing only: no bodies, no ids.
        "accesslog": "-",
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
    }
    _Gunicorn(options).run()
    return 0
