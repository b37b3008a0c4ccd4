"""The Flask app factory: ``create_app(config=None)``.

Everything is built once here at start-up -- content validated, the database schema ensured,
the skill and its handler list assembled (:mod:`skill.service`, shared with Lambda), the
verifier configured -- so a request does no set-up work and a broken content file stops the
process before it serves anyone.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from ask_sdk_core.skill import CustomSkill
from flask import Flask, current_app, jsonify

from . import service
from .audio_files import init_app as init_audio
from .content_model import Content
from .errors import ConfigError
from .store import UserStore, default_database_url
from .verification import RequestVerifier

log = logging.getLogger(__name__)

#: Settings read from the environment when not given in ``config``.
ENVIRONMENT = ("ALEXA_SKILL_ID", "DATABASE_URL", "AUDIO_BASE_URL")


@dataclass
class Service:
    """What the blueprints need at request time, built once per app."""

    content: dict[str, Content]
    skill: CustomSkill
    verifier: RequestVerifier
    store: UserStore


def _settings(app: Flask, config: dict | None) -> None:
    app.config.from_mapping(service.DEFAULTS)
    for name in ENVIRONMENT:
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    app.config.update(config or {})
    if app.config["DEV"]:
        app.config["VERIFY_SIGNATURE"] = False
        app.config["VERIFY_TIMESTAMP"] = False
    if app.config["VERIFY_SIGNATURE"] and not app.config["ALEXA_SKILL_ID"]:
        raise ConfigError(
            "ALEXA_SKILL_ID is not set. In production every request is checked against it; "
            "set it to your skill id (amzn1.ask.skill....), or run with --dev to try locally."
        )


def _verifier(app: Flask) -> RequestVerifier:
    options = {
        "check_signature": app.config["VERIFY_SIGNATURE"],
        "check_timestamp": app.config["VERIFY_TIMESTAMP"],
    }
    if app.config["TRUST_STORE"] is not None:
        options["trust_store"] = app.config["TRUST_STORE"]
    if app.config["CERT_FETCHER"] is not None:
        options["fetcher"] = app.config["CERT_FETCHER"]
    if app.config["CLOCK"] is not None:
        options["clock"] = app.config["CLOCK"]
    return RequestVerifier(app.config["ALEXA_SKILL_ID"], **options)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=(config or {}).get("INSTANCE_PATH"))
    _settings(app, config)
    database_url = app.config["DATABASE_URL"] or default_database_url(app.instance_path)
    built = service.build(app.config, init_audio(app), database_url)
    app.extensions["breathing_room"] = Service(
        content=built.content,
        skill=built.skill,
        verifier=_verifier(app),
        store=built.store,
    )
    from .webhook import bp as webhook

    app.register_blueprint(webhook)
    app.add_url_rule("/healthz", "healthz", healthz)
    if app.config["DEV"]:
        from .console import bp as console  # dev only: the page and its JSON routes

        app.register_blueprint(console)
        log.warning("DEV MODE: Alexa signature and timestamp checks are OFF")
    return app


def healthz():
    """Cheap liveness: content loaded, and whether the database answers (it may not;
    the skill still serves exercises without it)."""
    service: Service = current_app.extensions["breathing_room"]
    database = "ok" if service.store.ping() else "unavailable"
    return jsonify({"status": "ok", "database": database, "locales": sorted(service.content)})
