"""The same skill on AWS Lambda. Handler string: ``skill.lambda_handler.handler``.

Alexa invokes a Lambda function directly (the trigger is restricted to the skill id), so
there is no HTTP request and no signature to check; the skill id is still checked on every
request by ask-sdk itself (``SkillBuilder.skill_id``: another skill's request raises
instead of being answered). Everything else is the web service's own code, without Flask:
:mod:`skill.service` builds content, store and handlers once per container, at cold start,
and each invocation is deserialize -> dispatch -> serialize, exactly as ask-sdk's
``lambda_handler`` does.

Environment: ``ALEXA_SKILL_ID`` (required), ``DATABASE_URL`` (required: a Lambda's disk is
temporary, so use ``dynamodb://<table>`` or PostgreSQL), ``AUDIO_BASE_URL`` (public HTTPS
prefix of the pre-rendered audio, e.g. S3 or CloudFront; Lambda serves no files).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope

from . import service
from .audio import MANIFEST_NAME, AudioLibrary, Manifest, base_url_joiner, default_audio_dir
from .errors import ConfigError
from .speech import NoAudio

LambdaHandler = Callable[[dict, Any], dict]


def build_handler(config: dict | None = None) -> LambdaHandler:
    """A Lambda handler for ``config`` on top of the environment (tests pass a config)."""
    settings = {
        **service.DEFAULTS,
        "ALEXA_SKILL_ID": os.environ.get("ALEXA_SKILL_ID"),
        "DATABASE_URL": os.environ.get("DATABASE_URL"),
        "AUDIO_BASE_URL": os.environ.get("AUDIO_BASE_URL"),
        **(config or {}),
    }
    if not settings["ALEXA_SKILL_ID"]:
        raise ConfigError("ALEXA_SKILL_ID is not set: the Lambda answers only your skill")
    if not settings["DATABASE_URL"]:
        raise ConfigError(
            "DATABASE_URL is not set: on Lambda use dynamodb://<table> or PostgreSQL "
            "(a file on the function's disk does not survive the container)"
        )
    # No HTTP here: signatures and timestamps are checked by Amazon's invocation path.
    skill = service.build(settings, _audio(settings), settings["DATABASE_URL"]).skill
    serializer = DefaultSerializer()

    def handler(event: dict, context: Any) -> dict:
        envelope = serializer.deserialize(json.dumps(event), RequestEnvelope)
        response = skill.invoke(request_envelope=envelope, context=context)
        return serializer.serialize(response)

    return handler


def _audio(settings: dict) -> AudioLibrary:
    """Lambda serves no files: pre-rendered audio plays only from ``AUDIO_BASE_URL``."""
    base = settings.get("AUDIO_BASE_URL")
    if not base:
        return NoAudio()
    folder = Path(settings.get("AUDIO_DIR") or default_audio_dir())
    return AudioLibrary(Manifest.load(folder / MANIFEST_NAME), base_url_joiner(base))


@functools.cache
def _default_handler() -> LambdaHandler:
    return build_handler()


def handler(event: dict, context: Any) -> dict:
    """The Lambda entry point; the skill is built on the first invocation of a container."""
    return _default_handler()(event, context)


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # on Lambda: build during the init phase
    _default_handler()
