"""Safety: crisis first in the handler list, and breath holds that are always optional."""

from __future__ import annotations

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from ..routines import breathing
from .base import Handler
from .support import CRISIS, content, menu, respond, running, say, session

#: Session attribute: holds stay off for the rest of the session once set.
NO_HOLDS = "no_holds"


class CrisisHandler(Handler):
    """Answers at once with the person's own locale's crisis line, stops any practice, and
    asks nothing: no exercise is offered, no feedback asked, nothing stored."""

    intents = ("CrisisIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        locale = handler_input.request_envelope.request.locale
        crisis = self.runtime.crisis_for(locale)
        session(handler_input)[CRISIS] = True
        return respond(
            self.runtime,
            handler_input,
            (say(crisis.message),),
            card=(crisis.card_title, crisis.card_text),
            history_note=False,
        )


class DizzyHandler(Handler):
    """"I feel dizzy": breathe normally, no more holds this session, then carry on only if
    the person wants to."""

    intents = ("DizzyIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        text = content(self.runtime, handler_input)
        session(handler_input)[NO_HOLDS] = True
        state = running(handler_input)
        if state is None:
            return menu(self.runtime, handler_input, "dizzy")
        if state.get("routine") == breathing.ROUTINE:
            state = breathing.without_holds(state)
        return respond(
            self.runtime,
            handler_input,
            (say(text.message("dizzy")),),
            question=say(text.message("keep_going")),
            state=state,
        )
