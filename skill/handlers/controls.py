"""Controlling a practice in progress: pause, resume, next, repeat, start over, pace, yes/no.

Each handler asks the routine (pure) what to do with the event and voices the answer; when
no practice is running, it says so kindly and offers the choice.
"""

from __future__ import annotations

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from .. import routines
from ..routines import Event, breathing
from . import feedback, privacy, slots
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
    pace_changed = event in (Event.SLOWER, Event.FASTER)
    if pace_changed and turn.state and turn.state.get("routine") == breathing.ROUTINE:
        # Only a pace change touches the record: other steps need no database at all.
        paces = memory(handler_input).setdefault("paces", {})
        paces[turn.state["technique"]] = turn.state["pace"]
    return respond_turn(runtime, handler_input, turn)


def remember_position(handler_input: HandlerInput, state: dict | None) -> None:
    if state is not None:
        memory(handler_input)["paused"] = state


def close_kindly(runtime, handler_input: HandlerInput) -> Response:
    """End the session warmly; a practice in progress is remembered for "resume"."""
    text = content(runtime, handler_input)
    state = running(handler_input)
    remember_position(handler_input, state)
    closing = "stopped" if state is not None else "goodbye"
    return respond(runtime, handler_input, (say(text.message(closing)),))


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
    """"Yes" answers the question just asked; each kind of question knows its yes."""

    intents = ("AMAZON.YesIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        attrs = session(handler_input)
        asked = attrs.get(QUESTION)
        state = running(handler_input)
        if asked == "keep_going" and state is not None:
            return advance(self.runtime, handler_input, state, Event.NEXT)
        if asked == "feedback":
            # "Yes, it helped": counted as a little, so we never overstate what helped.
            return feedback.record_feedback(self.runtime, handler_input, "A_LITTLE")
        if asked == "bridge":
            return feedback.take_bridge(self.runtime, handler_input)
        if asked == "forget":
            return privacy.forget(self.runtime, handler_input)
        if asked == "offer" and isinstance(attrs.get(feedback.OFFER), str):
            return feedback.start_practice(self.runtime, handler_input,
                                           attrs.pop(feedback.OFFER))
        if asked == "menu":
            # "Yes" to the offer of practices: begin the gentlest one, no further questions.
            last = memory(handler_input).get("last_technique")
            text = content(self.runtime, handler_input)
            technique = breathing.choose_technique(text, None, last)
            return feedback.start_practice(self.runtime, handler_input, technique.id)
        return menu(self.runtime, handler_input, "fallback")


class NoHandler(Handler):
    """"No" closes kindly, or (to an offer of one practice) leaves the choice open."""

    intents = ("AMAZON.NoIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        text = content(self.runtime, handler_input)
        attrs = session(handler_input)
        asked = attrs.get(QUESTION)
        if asked == "feedback":
            return feedback.record_feedback(self.runtime, handler_input, "NOT_REALLY")
        if asked == "bridge":
            attrs.pop(feedback.BRIDGE, None)
            return respond(self.runtime, handler_input, (say(text.message("bridge_declined")),))
        if asked == "forget":
            return respond(self.runtime, handler_input, (say(text.message("forget_kept")),))
        if asked == "offer":
            attrs.pop(feedback.OFFER, None)
            return menu(self.runtime, handler_input)
        return close_kindly(self.runtime, handler_input)
