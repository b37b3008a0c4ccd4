"""Everything that answers Alexa, built once from settings, with no web framework.

The Flask app (``create_app``) and the AWS Lambda handler both build the skill here, so
they serve the same content, store and handler list; Lambda does not import Flask at all,
which keeps its cold start short.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from ask_sdk_core.skill import CustomSkill

from .alexa_api import TimedApiClient
from .content import load_all, load_crisis_lines
from .content_model import Content
from .errors import ConfigError
from .handlers import build_skill
from .handlers.support import Runtime
from .speech import AudioLibrary
from .store import StoreUnavailable, UserStore, open_store

log = logging.getLogger(__name__)

#: Every setting and its default; the web app adds its own from the environment.
DEFAULTS = {
    "ALEXA_SKILL_ID": None,
    "DATABASE_URL": None,
    "AUDIO_BASE_URL": None,
    # Folder holding manifest.json and the MP3s (default: audio/ in the repository).
    "AUDIO_DIR": None,
    "DEV": False,
    "VERIFY_SIGNATURE": True,
    "VERIFY_TIMESTAMP": True,
    "CONTENT_ROOT": None,
    "DEFAULT_LOCALE": "en-US",
    # For tests and special deployments: a cryptography Store of trusted roots, a
    # callable(url, timeout) -> PEM bytes, and a clock returning an aware datetime.
    "TRUST_STORE": None,
    "CERT_FETCHER": None,
    "CLOCK": None,
    # CA bundle for calls to Alexa's APIs (reminders, settings); True = the system's.
    "ALEXA_API_VERIFY": True,
}


@dataclass(frozen=True)
class Built:
    content: dict[str, Content]
    skill: CustomSkill
    store: UserStore


def open_store_at_start(url: str) -> UserStore:
    """The store, with its schema ensured if the database answers.

    The exercises work without a database; history comes back when it does (the store
    creates a missing schema on first use).
    """
    store = open_store(url)
    try:
        store.create_schema()
    except StoreUnavailable:
        log.warning("database unavailable at start-up; running without history for now")
    return store


def build(settings: Mapping, audio: AudioLibrary, database_url: str) -> Built:
    """Content validated, store opened, handlers assembled: once per process."""
    content = load_all(settings["CONTENT_ROOT"])
    if settings["DEFAULT_LOCALE"] not in content:
        raise ConfigError(f"no content for the default locale {settings['DEFAULT_LOCALE']}")
    store = open_store_at_start(database_url)
    runtime = Runtime(content, audio, settings["DEFAULT_LOCALE"],
                      load_crisis_lines(settings["CONTENT_ROOT"]))
    skill = build_skill(runtime, store, TimedApiClient(verify=settings["ALEXA_API_VERIFY"]),
                        skill_id=settings["ALEXA_SKILL_ID"])
    return Built(content, skill, store)
