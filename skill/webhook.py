"""The Alexa endpoint: ``POST /alexa``.

Order matters: size, then JSON, then envelope shape, then verification, and only then
dispatch. Anything that fails before dispatch is a 400 with a short JSON reason; nothing
unverified ever reaches a handler.
"""

from __future__ import annotations

import json
import logging

from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope
from flask import Blueprint, current_app, jsonify, request

from .verification import VerificationError, looks_like_envelope

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)
_serializer = DefaultSerializer()

#: Alexa's requests are a few KB; anything far larger is not from Alexa.
MAX_BODY_BYTES = 64 * 1024


def _reject(reason: str):
    log.info("rejected request: %s", reason)
    return jsonify({"error": "bad request", "reason": reason}), 400


def _read_body() -> bytes | None:
    """The raw body, or ``None`` when it is over the limit (without reading it all)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    body = request.stream.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


@bp.post("/alexa")
def alexa():
    runtime = current_app.extensions["breathing_room"]
    body = _read_body()
    if body is None:
        return _reject("body is larger than 64 KB")
    try:
        envelope = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _reject("body is not JSON")
    problem = looks_like_envelope(envelope)
    if problem:
        return _reject(problem)
    try:
        runtime.verifier.verify(request.headers, body, envelope)
    except VerificationError as exc:
        return _reject(str(exc))
    try:
        request_envelope = _serializer.deserialize(body.decode("utf-8"), RequestEnvelope)
    except Exception:  # the SDK raises several types for malformed envelopes
        return _reject("body is not a valid Alexa request")
    response_envelope = runtime.skill.invoke(request_envelope=request_envelope, context=None)
    return current_app.response_class(
        json.dumps(_serializer.serialize(response_envelope)),
        mimetype="application/json",
    )
