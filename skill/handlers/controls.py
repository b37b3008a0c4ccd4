"""Controlling a practice in progress: pause, resume, next, repeat, start over, pace, yes/no.

Each handler asks the routine (pure) what to do with the event and voices the answer; when
no practice is running, it says so kindly and offers the choice.
"""

from __future__ import annotations

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from .. import routines
from ..routines import Event, breathing
from . import slots
from .base import Handler
from .support import (
    LAST,
    QUESTION,
    content,
    memory,
    menu,
    respond,
    respond_turn,
    running,
    say,
    session,
)


def advance(runtime, handler_input: HandlerInput, state: dict, event: Event) -> Response:
    """Run ``event`` through the routine and remember what must outlive the session."""
    text = content(runtime, handler_input)
    turn = routines.step(text, state, event)
    if turn.state and turn.state.get("routine") == breathing.ROUTINE:
        paces = memory(handler_input).setdefault("paces", {})
        paces[turn.state["technique"]] = turn.state["pace"]
    return respond_turn(runtime, handler_input, turn)


def remember_position(handler_input: HandlerInput, state: dict | None) -> None:
    if state is not None:
        memory(handler_input)["paused"] = state


class PauseHandler(Handler):
    intents = ("AMAZON.PauseIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        text = content(self.runtime, handler_input)
        state = running(handler_input)
        if state is None:
            return respond(self.runtime, handler_input, (say(text.message("stopped")),))
        remember_position(handler_input, state)
        return respond(self.runtime, handler_input, (say(text.message("paused")),))


class ResumeHandler(Handler):
    """Resume in this session, or in a new one ("Alexa, ask breathing room to resume")."""

    intents = ("AMAZON.ResumeIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        text = content(self.runtime, handler_input)
        state = running(handler_input)
        record = memory(handler_input)
        if state is None:
            paused = record.get("paused")
            state = paused if routines.is_valid_state(text, paused) else None
        record.pop("paused", None)
        if state is None:
            return menu(self.runtime, handler_input, "nothing_to_resume")
        return advance(self.runtime, handler_input, state, Event.RESUME)


class NextHandler(Handler):
    intents = ("AMAZON.NextIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        state = running(handler_input)
        if state is None:
            return menu(self.runtime, handler_input, "next_not_in_exercise")
        return advance(self.runtime, handler_input, state, Event.NEXT)


class RepeatHandler(Handler):
    intents = ("AMAZON.RepeatIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        state = running(handler_input)
        if state is not None:
            return advance(self.runtime, handler_input, state, Event.REPEAT)
        last = session(handler_input).get(LAST)
        if isinstance(last, dict) and last.get("speech") and last.get("reprompt"):
            builder = handler_input.response_builder
            return builder.speak(last["speech"]).ask(last["reprompt"]).response
        return menu(self.runtime, handler_input, "nothing_to_repeat")


class StartOverHandler(Handler):
    intents = ("AMAZON.StartOverIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        state = running(handler_input)
        if state is None:
            return menu(self.runtime, handler_input)
        return advance(self.runtime, handler_input, state, Event.START_OVER)


class PaceHandler(Handler):
    intents = ("PaceIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        text = content(self.runtime, handler_input)
        reading = slots.read(handler_input, "pace")
        pace = reading.id or slots.resolve_spoken(
            reading.value or "", {"SLOWER": ["slower", "slow"], "FASTER": ["faster", "quicker"]}
        )
        state = running(handler_input)
        if state is None:
            return menu(self.runtime, handler_input, "pace_not_breathing")
        if pace not in ("SLOWER", "FASTER"):
            return respond(
                self.runtime,
                handler_input,
                (),
                question=say(text.message("fallback_in_exercise")),
                state=state,
            )
        event = Event.SLOWER if pace == "SLOWER" else Event.FASTER
        return advance(self.runtime, handler_input, state, event)


class YesHandler(Handler):
    intents = ("AMAZON.YesIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        asked = session(handler_input).get(QUESTION)
        state = running(handler_input)
        if asked == "keep_going" and state is not None:
            return advance(self.runtime, handler_input, state, Event.NEXT)
        if asked == "menu":
            # "Yes" to the offer of practices: begin the gentlest one, no further questions.
            text = content(self.runtime, handler_input)
            record = memory(handler_input)
            technique = breathing.choose_technique(text, None, record.get("last_technique"))
            turn = breathing.start(text, technique.id, paces=record.get("paces"))
            record["last_technique"] = technique.id
            return respond_turn(self.runtime, handler_input, turn)
        return menu(self.runtime, handler_input, "fallback")


class NoHandler(Handler):
    intents = ("AMAZON.NoIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        text = content(self.runtime, handler_input)
        state = running(handler_input)
        remember_position(handler_input, state)
        closing = "stopped" if state is not None else "goodbye"
        return respond(self.runtime, handler_input, (say(text.message(closing)),))
