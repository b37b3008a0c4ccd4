"""Starting a practice: breathing, grounding, self-compassion, tonight's reflection."""

from __future__ import annotations

import zlib

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from ..routines import Event, breathing, guided, reflection
from . import slots
from .base import Handler
from .safety import NO_HOLDS
from .support import content, memory, respond, respond_turn, running, say, session


def forget_paused(handler_input: HandlerInput) -> None:
    """Starting something new replaces any paused practice."""
    memory(handler_input).pop("paused", None)


class BreathingHandler(Handler):
    """"Box breathing for five minutes": starts within one sentence.

    Also "… without holding" (NoHoldsIntent): holds are left out, and when a breathing
    practice is already running, it carries on from where it was without them.
    """

    intents = ("BreathingIntent", "NoHoldsIntent")

    def handle(self, handler_input: HandlerInput) -> Response:
        text = content(self.runtime, handler_input)
        attrs = session(handler_input)
        lead: tuple = ()
        if is_intent_name("NoHoldsIntent")(handler_input):
            attrs[NO_HOLDS] = True
            lead = (say(text.message("holds_off")),)
            state = running(handler_input)
            if state is not None and state.get("routine") == breathing.ROUTINE:
                turn = breathing.step(text, breathing.without_holds(state), Event.REPEAT)
                return respond_turn(self.runtime, handler_input, turn, lead)
        return self.start(handler_input, lead)

    def start(self, handler_input: HandlerInput, lead: tuple) -> Response:
        text = content(self.runtime, handler_input)
        reading = slots.read(handler_input, "technique")
        technique_id = reading.id if reading.id in text.techniques else None
        if technique_id is None and reading.value:
            names = {t.id: [t.name] for t in text.techniques.values()}
            technique_id = slots.resolve_spoken(reading.value, names)
            if technique_id is None:
                # A kind correction, and the person stays in the conversation.
                return respond(
                    self.runtime,
                    handler_input,
                    (),
                    question=say(text.message("technique_unknown")),
                    question_kind="technique",
                    reprompt=say(text.message("technique_question")),
                )
        record = memory(handler_input)
        technique = breathing.choose_technique(text, technique_id, record.get("last_technique"))
        minutes = slots.number(slots.read(handler_input, "minutes"))
        holds = not session(handler_input).get(NO_HOLDS)
        turn = breathing.start(text, technique.id, minutes, paces=record.get("paces"),
                               holds=holds)
        record["last_technique"] = technique.id
        forget_paused(handler_input)
        if not technique.has_holds:
            lead = ()  # "no holds" means nothing for a technique without any
        return respond_turn(self.runtime, handler_input, turn, lead)


class GuidedHandler(Handler):
    """Grounding and the self-compassion break: hands-free, no questions before starting."""

    routine = ""

    def handle(self, handler_input: HandlerInput) -> Response:
        memory(handler_input)
        forget_paused(handler_input)
        turn = guided.start(content(self.runtime, handler_input), self.routine)
        return respond_turn(self.runtime, handler_input, turn)


class GroundingHandler(GuidedHandler):
    intents = ("GroundingIntent",)
    routine = "grounding"


class SelfCompassionHandler(GuidedHandler):
    intents = ("SelfCompassionIntent",)
    routine = "self_compassion"


class ReflectionHandler(Handler):
    intents = ("ReflectionIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        record = memory(handler_input)
        heard = record.get("heard")
        heard = heard if isinstance(heard, list) else []
        # The request id varies per request, so the next prompt is not predictable,
        # while tests can still reproduce a choice from the envelope they send.
        seed = zlib.crc32(handler_input.request_envelope.request.request_id.encode())
        turn = reflection.start(content(self.runtime, handler_input), heard, seed)
        record["heard"] = turn.extras["heard"]
        forget_paused(handler_input)
        return respond_turn(self.runtime, handler_input, turn)
