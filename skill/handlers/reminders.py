"""The nightly reminder: "remind me every night at nine", and cancelling it.

Alexa's Reminders API needs the person's permission, asked by voice (Connections.SendRequest
"AskFor"; the answer arrives as a Connections.Response) or, if they decline, through a card
in the Alexa app. One reminder per person: asking again moves it, never duplicates it. The
record only ever holds a reminder that Alexa confirmed, so a failed call changes nothing.
"""

from __future__ import annotations

import logging
import re

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import Response
from ask_sdk_model.interfaces.connections import SendRequestDirective
from ask_sdk_model.ui import AskForPermissionsConsentCard

from ..alexa_api import (
    REMINDER_SCOPE,
    AlexaApiError,
    create_reminder,
    delete_reminder,
    device_time_zone,
    has_reminder_permission,
    reminder_request,
    update_reminder,
)
from . import slots
from .base import Handler
from .support import Runtime, content, fill, memory, respond, say

log = logging.getLogger(__name__)

#: AMAZON.TIME's vaguer values, as the hour a nightly reminder would mean.
_PERIODS = {"MO": (8, 0), "AF": (14, 0), "EV": (19, 0), "NI": (21, 0)}
ASK_FOR_TOKEN = "breathing-room-reminder"
_MESSAGES = {"permission": "reminder_permission", "busy": "reminder_busy",
             "failed": "reminder_failed"}


def parse_time(value: str | None) -> tuple[int, int] | None:
    """AMAZON.TIME ("21:00", "21:00:00", "NI") -> (hour, minute), or None."""
    if not value:
        return None
    if value in _PERIODS:
        return _PERIODS[value]
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::\d{2})?", value)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    return (hour, minute) if hour < 24 and minute < 60 else None


def spoken_time(hour: int, minute: int) -> str:
    """'9 PM', '9:30 PM', '12 AM' -- how Alexa reads a time most naturally."""
    suffix = "AM" if hour < 12 else "PM"
    twelve = hour % 12 or 12
    return f"{twelve} {suffix}" if minute == 0 else f"{twelve}:{minute:02d} {suffix}"


def _consent_card() -> AskForPermissionsConsentCard:
    return AskForPermissionsConsentCard(permissions=[REMINDER_SCOPE])


def _failure(runtime: Runtime, handler_input: HandlerInput, error: AlexaApiError) -> Response:
    log.warning("reminder call failed: %s", error)
    text = content(runtime, handler_input)
    response = respond(runtime, handler_input, (say(text.message(_MESSAGES[error.kind])),))
    if error.kind == "permission":
        handler_input.response_builder.set_card(_consent_card())
    return response


def set_reminder(runtime: Runtime, handler_input: HandlerInput, hour: int, minute: int
                 ) -> Response:
    """Create, or move, the one daily reminder; remember it only once Alexa confirms."""
    text = content(runtime, handler_input)
    record = memory(handler_input)
    zone = device_time_zone(handler_input, text.reminder.default_time_zone)
    locale = handler_input.request_envelope.request.locale or "en-US"
    request = reminder_request(hour, minute, zone, text.reminder.text.text, locale)
    existing = record.get("reminder") if isinstance(record.get("reminder"), dict) else None
    try:
        token = None
        if existing and existing.get("token"):
            token = update_reminder(handler_input, existing["token"], request)
        if token is None:
            token = create_reminder(handler_input, request)
    except AlexaApiError as error:
        return _failure(runtime, handler_input, error)
    record["reminder"] = {"token": token, "time": f"{hour:02d}:{minute:02d}"}
    record["time_zone"] = zone
    record.pop("pending_reminder", None)
    said = fill(text.message("reminder_set"), time=spoken_time(hour, minute))
    return respond(runtime, handler_input, (said,))


class ReminderHandler(Handler):
    intents = ("ReminderIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        text = content(self.runtime, handler_input)
        when = parse_time(slots.read(handler_input, "time").value)
        if when is None:
            return respond(self.runtime, handler_input, (),
                           question=say(text.message("reminder_time_question")),
                           question_kind="reminder_time")
        if not has_reminder_permission(handler_input):
            # Ask by voice; the answer comes back as Connections.Response.
            memory(handler_input)["pending_reminder"] = f"{when[0]:02d}:{when[1]:02d}"
            directive = SendRequestDirective(
                name="AskFor",
                payload={
                    "@type": "AskForPermissionsConsentRequest",
                    "@version": "2",
                    "permissionScopes": [
                        {"permissionScope": REMINDER_SCOPE, "consentLevel": "ACCOUNT"}
                    ],
                },
                token=ASK_FOR_TOKEN,
            )
            return handler_input.response_builder.add_directive(directive).response
        return set_reminder(self.runtime, handler_input, *when)


class PermissionAnswerHandler(Handler):
    """The person answered Alexa's permission question (Connections.Response, AskFor)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        request = handler_input.request_envelope.request
        return is_request_type("Connections.Response")(handler_input) and (
            getattr(request, "name", None) == "AskFor"
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        text = content(self.runtime, handler_input)
        payload = handler_input.request_envelope.request.payload or {}
        record = memory(handler_input)
        pending = parse_time(record.get("pending_reminder"))
        if payload.get("status") == "ACCEPTED" and pending:
            return set_reminder(self.runtime, handler_input, *pending)
        record.pop("pending_reminder", None)
        respond(self.runtime, handler_input, (say(text.message("reminder_permission")),))
        return handler_input.response_builder.set_card(_consent_card()).response


class CancelReminderHandler(Handler):
    intents = ("CancelReminderIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        text = content(self.runtime, handler_input)
        record = memory(handler_input)
        existing = record.get("reminder") if isinstance(record.get("reminder"), dict) else None
        if not existing or not existing.get("token"):
            return respond(self.runtime, handler_input, (say(text.message("reminder_none")),))
        try:
            delete_reminder(handler_input, existing["token"])
        except AlexaApiError as error:
            return _failure(self.runtime, handler_input, error)
        record.pop("reminder", None)
        return respond(self.runtime, handler_input, (say(text.message("reminder_cancelled")),))
