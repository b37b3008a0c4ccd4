"""Cross-cutting steps around every request: privacy-safe logging and the one save."""

from __future__ import annotations

import hashlib
import logging

from ask_sdk_core.dispatch_components import (
    AbstractRequestInterceptor,
    AbstractResponseInterceptor,
)
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from ..store import StoreUnavailable
from .support import memory_changed

log = logging.getLogger(__name__)


def pseudonym(user_id: str | None) -> str:
    """A short one-way tag so log lines of one person can be followed without their id."""
    if not user_id:
        return "-"
    return hashlib.sha256(user_id.encode()).hexdigest()[:10]


class RequestLogger(AbstractRequestInterceptor):
    """One line per request at DEBUG: type, intent, locale, a pseudonym. Never ids or
    tokens. (At INFO the access log's line per request is enough; formatting a second one
    on every request was a measurable share of a request's CPU.)"""

    def process(self, handler_input: HandlerInput) -> None:
        envelope = handler_input.request_envelope
        request = envelope.request
        intent = getattr(getattr(request, "intent", None), "name", None)
        user = getattr(getattr(envelope.context, "system", None), "user", None)
        if not log.isEnabledFor(logging.DEBUG):
            return  # the access log already has a line per request; this adds the detail
        log.debug(
            "request %s%s locale=%s user=%s",
            request.object_type,
            f" {intent}" if intent else "",
            getattr(request, "locale", None),
            pseudonym(getattr(user, "user_id", None)),
        )


class SaveRecord(AbstractResponseInterceptor):
    """Saves the person's record once per request, and only when it changed.

    Handlers never save: they change the record, and this is the single place it is
    written. A database failure here is logged by the store and the answer still goes out.
    """

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        if not memory_changed(handler_input):
            return
        try:
            handler_input.attributes_manager.save_persistent_attributes()
        except StoreUnavailable:
            # The store has logged the outage, once per interval; not again per request.
            log.debug("record not saved: store unavailable")
