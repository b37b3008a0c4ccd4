"""The ``breathing-room`` command: serve, chat, build-model, init-db, build-audio, check-audio.

Thin on purpose: each sub-command parses its options and calls one function elsewhere.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from .content import ContentError
from .errors import ConfigError

DEV_PORT = 5000


def _app(dev: bool):
    from .app import create_app

    return create_app({"DEV": dev})


def serve(args: argparse.Namespace) -> int:
    if args.dev:
        host = "127.0.0.1"  # dev mode skips verification: never expose it beyond loopback
        port = args.port or DEV_PORT
        app = _app(dev=True)
        print(
            "Breathing Room, DEV MODE: Alexa signature and timestamp checks are OFF.\n"
            f"  Skill endpoint: POST http://{host}:{port}/alexa\n"
            f"  Health:         GET  http://{host}:{port}/healthz\n"
            f"  Console:        http://{host}:{port}/  (open it in your browser)\n"
            "  Try it in a terminal: breathing-room chat",
            flush=True,
        )
        app.run(host=host, port=port, debug=False, use_reloader=False)
        return 0
    from .serving import run_gunicorn

    return run_gunicorn(host=args.host, port=args.port or 8080, workers=args.workers)


def chat(args: argparse.Namespace) -> int:
    from . import chat as chat_module

    logging.getLogger().setLevel(logging.ERROR)
    return chat_module.main(_app(dev=True))


def build_model(args: argparse.Namespace) -> int:
    from .interaction_model import main as model_main

    forwarded = []
    if args.endpoint:
        forwarded += ["--endpoint", args.endpoint]
    if args.out:
        forwarded += ["--out", args.out]
    return model_main(forwarded)


def init_db(args: argparse.Namespace) -> int:
    """Create the schema (idempotent); exit 1 when the database cannot be reached."""
    from .app import create_app
    from .store import StoreUnavailable

    store = create_app({"DEV": True}).extensions["breathing_room"].store
    create = getattr(store, "create_table_now", store.create_schema)  # DynamoDB: the table
    try:
        create()
    except StoreUnavailable as exc:
        print(f"breathing-room: database not ready: {exc}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    print(f"database schema is ready ({store!r})")
    return 0


def build_audio(args: argparse.Namespace) -> int:
    from .render.build import run

    return run(args)


def check_audio(args: argparse.Namespace) -> int:
    from .render.check import run

    return run(args)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="breathing-room", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    p = commands.add_parser("serve", help="run the skill's web service")
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=None, help="default: from the CPU count")
    p.add_argument("--dev", action="store_true",
                   help="no signature/timestamp checks, loopback only, Flask's server")
    p.set_defaults(func=serve)

    p = commands.add_parser("chat", help="talk to the skill in this terminal")
    p.set_defaults(func=chat)

    p = commands.add_parser("build-model", help="write skill-package/ from content")
    p.add_argument("--endpoint", help="your public HTTPS endpoint, e.g. https://x.example/alexa")
    p.add_argument("--out", help="output folder (default: skill-package/)")
    p.set_defaults(func=build_model)

    p = commands.add_parser("init-db", help="create the database schema")
    p.set_defaults(func=init_db)

    from .render.build import add_arguments as build_audio_arguments

    p = commands.add_parser("build-audio", help="pre-render the voice into audio/")
    build_audio_arguments(p)
    p.set_defaults(func=build_audio)

    p = commands.add_parser("check-audio", help="check audio/ against Alexa's audio rules")
    p.add_argument("--out", type=Path, default=None,
                   help="audio folder (default: $BREATHING_ROOM_AUDIO or audio/)")
    p.set_defaults(func=check_audio)
    return top


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ContentError, ConfigError) as exc:
        print(f"breathing-room: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
