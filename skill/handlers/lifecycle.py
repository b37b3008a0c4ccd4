"""Opening, help, closing, fallbacks, and the requests that must not speak."""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape

from ask_sdk_core.dispatch_components import AbstractExceptionHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import Response

from .. import history
from . import feedback
from .base import Handler
from .controls import close_kindly, remember_position
from .support import Runtime, ask_in_practice, content, empty, memory, menu, running

log = logging.getLogger(__name__)


class LaunchHandler(Handler):
    """"Alexa, open breathing room": one short welcome, then the choice. No menus of menus."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        record = memory(handler_input)
        visits = record.get("visits", 0)
        record["visits"] = (visits if isinstance(visits, int) else 0) + 1
        best = history.best_practice(record.get("history"))
        if best is not None:
            # Quietly personal: what has helped this person most is offered first.
            return feedback.offer(self.runtime, handler_input, (), best.practice,
                                  "welcome_offer")
        return menu(self.runtime, handler_input, "welcome_back" if visits else "welcome")


class HelpHandler(Handler):
    intents = ("AMAZON.HelpIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        state = running(handler_input)
        if state is None:
            return menu(self.runtime, handler_input, "help")
        return ask_in_practice(self.runtime, handler_input, "help_in_exercise", state)


class StopHandler(Handler):
    """Stop and Cancel close kindly; a practice in progress is remembered for "resume"."""

    intents = ("AMAZON.StopIntent", "AMAZON.CancelIntent")

    def handle(self, handler_input: HandlerInput) -> Response:
        return close_kindly(self.runtime, handler_input)


class NavigateHomeHandler(Handler):
    intents = ("AMAZON.NavigateHomeIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        remember_position(handler_input, running(handler_input))
        return menu(self.runtime, handler_input)


class FallbackHandler(Handler):
    """Anything the model could not place: say what is possible, keep the practice."""

    intents = ("AMAZON.FallbackIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        state = running(handler_input)
        if state is None:
            return menu(self.runtime, handler_input, "fallback")
        return ask_in_practice(self.runtime, handler_input, "fallback_in_exercise", state)


class SessionEndedHandler(Handler):
    """The session closed (silence after a question, "exit", or an error): no speech.

    A practice that was running is remembered, so "resume" picks it up later.
    """

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("SessionEndedRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        request = handler_input.request_envelope.request
        reason = getattr(request.reason, "value", request.reason)
        error = getattr(request, "error", None)
        if error is not None:
            log.warning("session ended: %s (%s: %s)", reason,
                        getattr(error.object_type, "value", error.object_type), error.message)
        else:
            log.info("session ended: %s", reason)
        remember_position(handler_input, running(handler_input))
        return empty(handler_input)


class ExceptionEncounteredHandler(Handler):
    """Alexa reports that our last response failed on the device; log it, say nothing."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("System.ExceptionEncountered")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        error = handler_input.request_envelope.request.error
        log.error("device reported an error: %s %s",
                  getattr(error.object_type, "value", error.object_type), error.message)
        return empty(handler_input)


class UnknownRequestHandler(Handler):
    """Last in the list: any request type we do not know gets an empty 200, never a crash."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        log.info("ignored request type %s", handler_input.request_envelope.request.object_type)
        return empty(handler_input)


class CatchAllExceptionHandler(AbstractExceptionHandler):
    """Whatever breaks, the person hears a calm line, never Alexa's generic failure."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        request = handler_input.request_envelope.request
        log.exception("handler failed on %s", request.object_type, exc_info=exception)
        if request.object_type in ("SessionEndedRequest",) or request.object_type.startswith(
            ("AudioPlayer.", "AlexaSkillEvent.", "System.", "PlaybackController.")
        ):
            return empty(handler_input)
        text = content(self.runtime, handler_input)
        builder = handler_input.response_builder
        builder.speak(f"<speak>{escape(text.message('error').text)}</speak>")
        return builder.set_should_end_session(True).response
