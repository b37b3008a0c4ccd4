"""Crisis: first in the handler list, so a crisis phrase always reaches crisis resources."""

from __future__ import annotations

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from .base import Handler
from .support import content, respond, say


class CrisisHandler(Handler):
    """Answers at once with the locale's crisis line, stops any practice, asks nothing.

    No exercise is offered and nothing is stored: this is not a moment for menus.
    """

    intents = ("CrisisIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        crisis = content(self.runtime, handler_input).crisis
        return respond(
            self.runtime,
            handler_input,
            (say(crisis.message),),
            card=(crisis.card_title, crisis.card_text),
            history_note=False,
        )
