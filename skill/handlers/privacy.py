"""Forgetting a person, on request or when they disable the skill.

"Forget me" asks once, then deletes every row kept for them (and their reminder, when the
request's token allows). Disabling the skill deletes their record without a question:
Alexa will not send this user id again in a way we could use, and keeping it would be
keeping data for no one.
"""

from __future__ import annotations

import logging

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import Response

from ..alexa_api import REMINDER_SCOPE, AlexaApiError, delete_reminder
from ..store import StoreUnavailable
from .base import Handler
from .support import Runtime, content, empty, forget_everything, memory, respond, say

log = logging.getLogger(__name__)


def forget(runtime: Runtime, handler_input: HandlerInput) -> Response:
    """Cancel the reminder if we can, then delete everything; confirm in one line."""
    text = content(runtime, handler_input)
    reminder = memory(handler_input).get("reminder")
    if isinstance(reminder, dict) and reminder.get("token"):
        try:
            delete_reminder(handler_input, reminder["token"])
        except AlexaApiError as error:
            # The person can remove it in the Alexa app; their data goes regardless.
            log.info("reminder not cancelled while forgetting: %s", error)
    try:
        forget_everything(handler_input)
    except StoreUnavailable:
        return respond(runtime, handler_input, (say(text.message("error")),))
    return respond(runtime, handler_input, (say(text.message("forget_done")),))


class ForgetMeHandler(Handler):
    intents = ("ForgetMeIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        text = content(self.runtime, handler_input)
        return respond(self.runtime, handler_input, (),
                       question=say(text.message("forget_confirm")), question_kind="forget")


class SkillDisabledHandler(Handler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("AlexaSkillEvent.SkillDisabled")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        try:
            forget_everything(handler_input)
        except StoreUnavailable:
            log.error("could not delete a disabled user's record: store unavailable")
            raise
        log.info("skill disabled: record deleted")
        return empty(handler_input)


class SkillPermissionHandler(Handler):
    """Permissions changed in the Alexa app: if reminders were revoked, forget our token
    (the reminder is no longer ours to manage)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("AlexaSkillEvent.SkillPermissionChanged")(handler_input) or (
            is_request_type("AlexaSkillEvent.SkillPermissionAccepted")(handler_input)
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        body = getattr(handler_input.request_envelope.request, "body", None)
        accepted = getattr(body, "accepted_permissions", None) or []
        scopes = {getattr(permission, "scope", None) for permission in accepted}
        if REMINDER_SCOPE not in scopes:
            memory(handler_input).pop("reminder", None)
        log.info("skill permissions changed: reminders %s",
                 "granted" if REMINDER_SCOPE in scopes else "not granted")
        return empty(handler_input)
