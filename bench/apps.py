"""WSGI apps the benchmarks serve under gunicorn, and the one way they are served.

* ``ours`` -- Breathing Room from ``create_app``, production verification ON. The only
  difference from production is where trust comes from: the root of a CA the benchmark
  generated (``BENCH_PKI`` folder) instead of the system roots, and the signing chain read
  from that folder instead of downloaded from s3.amazonaws.com. Every check still runs
  (URL rules, chain, signature over the body, timestamp, skill id); the chain is cached
  after the first request exactly as in production.
* ``dev`` -- Breathing Room in DEV mode (no signature checks), for the load test.
* ``bare`` -- a hello-world ask-sdk skill: deserialize, dispatch one handler, serialize.

    python bench/apps.py --app ours|dev|bare --port 8123 [--workers N]

runs the app with :func:`skill.serving.gunicorn_options`, the settings of
``breathing-room serve``. Settings come from the environment: ``DATABASE_URL``,
``BENCH_PKI`` (for ``ours``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SKILL_ID = "amzn1.ask.skill.bench000-0000-0000-0000-000000000000"
CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"


# ----------------------------------------------------------------- a CA for the bench


def write_pki(folder: Path) -> None:
    """Root CA -> intermediate -> echo-api leaf, as PEM files in ``folder``."""
    from cryptography.hazmat.primitives import serialization

    from tests.certs import make_ca, make_leaf, pem_chain

    now = datetime.now(UTC)
    day = timedelta(days=1)
    root = make_ca("Bench Root CA", not_before=now - day, not_after=now + 30 * day)
    inter = make_ca("Bench Server CA", issuer=root, not_before=now - day,
                    not_after=now + 30 * day)
    leaf = make_leaf(inter, not_before=now - day, not_after=now + 7 * day)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "root.pem").write_bytes(root.pem)
    (folder / "chain.pem").write_bytes(pem_chain(leaf, inter))
    (folder / "leaf.key").write_bytes(leaf.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))


def load_signing_key(folder: Path):
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key((folder / "leaf.key").read_bytes(), None)


def signed_headers(key, body: bytes) -> dict[str, str]:
    from tests.certs import sign_body

    return {"SignatureCertChainUrl": CERT_URL, "Signature-256": sign_body(key, body),
            "Content-Type": "application/json"}


# ----------------------------------------------------------------- the apps


def ours_app():
    from cryptography import x509
    from cryptography.x509.verification import Store

    from skill.app import create_app

    folder = Path(os.environ["BENCH_PKI"])
    root = x509.load_pem_x509_certificate((folder / "root.pem").read_bytes())
    chain = (folder / "chain.pem").read_bytes()
    return create_app({
        "ALEXA_SKILL_ID": SKILL_ID,
        "DATABASE_URL": os.environ.get("DATABASE_URL"),
        "TRUST_STORE": Store([root]),
        "CERT_FETCHER": lambda url, timeout: chain,
    })


def dev_app():
    from skill.app import create_app

    return create_app({"DEV": True, "ALEXA_SKILL_ID": SKILL_ID,
                       "DATABASE_URL": os.environ.get("DATABASE_URL")})


def bare_app():
    """The baseline: ask-sdk's hello world behind the same Flask route."""
    from ask_sdk_core.dispatch_components import AbstractRequestHandler
    from ask_sdk_core.serialize import DefaultSerializer
    from ask_sdk_core.skill_builder import CustomSkillBuilder
    from ask_sdk_model import RequestEnvelope
    from flask import Flask, request

    class HelloHandler(AbstractRequestHandler):
        def can_handle(self, handler_input):
            return True

        def handle(self, handler_input):
            return handler_input.response_builder.speak("Hello world").response

    builder = CustomSkillBuilder()
    builder.add_request_handler(HelloHandler())
    skill = builder.create()
    serializer = DefaultSerializer()
    app = Flask("bare")

    @app.post("/alexa")
    def alexa():
        envelope = serializer.deserialize(request.get_data(as_text=True), RequestEnvelope)
        response = skill.invoke(request_envelope=envelope, context=None)
        return app.response_class(json.dumps(serializer.serialize(response)),
                                  mimetype="application/json")

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    return app


APPS = {"ours": ours_app, "dev": dev_app, "bare": bare_app}


def main(argv: list[str] | None = None) -> int:
    import logging

    from skill.serving import GunicornApp, gunicorn_options, release_connections

    parser = argparse.ArgumentParser(description="serve one benchmark app on gunicorn")
    parser.add_argument("--app", choices=sorted(APPS), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))  # as `breathing-room`
    app = APPS[args.app]()
    release_connections(app)
    GunicornApp(app, gunicorn_options(f"127.0.0.1:{args.port}", args.workers)).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
