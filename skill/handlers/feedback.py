"""Noticing patterns: "did that help?", "what helps me", and the bridge to healing.

Coping tools keep a person afloat; healing starts when they notice which tools soothe them.
So after a practice ends, one optional question; from the answers, an honest summary when
asked; and, once a session and only after something helped, a gentle offer of a healing
step (a reflection or the self-compassion break) that is easy to decline.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from zoneinfo import ZoneInfo

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from .. import history
from ..alexa_api import device_time_zone
from ..routines import breathing, guided, reflection
from . import slots
from .base import Handler
from .support import (
    CRISIS,
    FEEDBACK_FOR,
    Runtime,
    content,
    fill,
    memory,
    menu,
    practice_name,
    respond,
    respond_turn,
    say,
    session,
)

#: Session attributes: the practice offered (after launch or patterns) and the bridge.
OFFER = "offer"
BRIDGE = "bridge"
BRIDGE_OFFERED = "bridge_offered"
#: Coping practices, after which a healing step may be offered.
COPING = ("breathing", "grounding")
_HELPFULNESS_WORDS = {
    "A_LOT": ["a lot", "lots", "very much", "really helped", "loads"],
    "A_LITTLE": ["a little", "a bit", "somewhat", "kind of", "sort of", "a little bit"],
    "NOT_REALLY": ["not really", "not at all", "no", "didn't help", "not much"],
}


def local_now(handler_input: HandlerInput, text) -> datetime:
    """Now in the person's time zone (read once, then kept in their record)."""
    record = memory(handler_input)
    zone = record.get("time_zone")
    if not isinstance(zone, str):
        zone = device_time_zone(handler_input, text.reminder.default_time_zone)
        record["time_zone"] = zone
    try:
        return datetime.now(ZoneInfo(zone))
    except (KeyError, ValueError):
        return datetime.now(ZoneInfo(text.reminder.default_time_zone))


def start_practice(runtime: Runtime, handler_input: HandlerInput, practice: str) -> Response:
    """Begin a practice by id (a technique id, grounding or self_compassion)."""
    text = content(runtime, handler_input)
    record = memory(handler_input)
    record.pop("paused", None)
    if practice in guided.ROUTINES:
        return respond_turn(runtime, handler_input, guided.start(text, practice))
    technique = breathing.choose_technique(text, practice, record.get("last_technique"))
    record["last_technique"] = technique.id
    turn = breathing.start(text, technique.id, paces=record.get("paces"),
                           holds=not session(handler_input).get("no_holds"))
    return respond_turn(runtime, handler_input, turn)


def offer(runtime: Runtime, handler_input: HandlerInput, speech: tuple, practice: str,
          template: str) -> Response:
    """Offer one practice by name; "yes" starts it, anything else is a free choice."""
    text = content(runtime, handler_input)
    session(handler_input)[OFFER] = practice
    name = practice_name(text, practice)
    return respond(
        runtime,
        handler_input,
        speech,
        question=fill(text.message(template), exercise=name),
        question_kind="offer",
        reprompt=say(text.message("menu_question")),
    )


def record_feedback(runtime: Runtime, handler_input: HandlerInput, helpfulness: str) -> Response:
    """Store the answer (what, how much, when; nothing else), then thank, and maybe bridge."""
    text = content(runtime, handler_input)
    attrs = session(handler_input)
    practice = attrs.pop(FEEDBACK_FOR, None)
    record = memory(handler_input)
    record["feedback_ignored"] = False
    if not isinstance(practice, dict):
        return menu(runtime, handler_input, "fallback")
    now = local_now(handler_input, text)
    item = history.entry(practice.get("exercise", ""), practice.get("technique"), helpfulness,
                         now.date().isoformat(), now.hour)
    record["history"] = history.added(history.valid_entries(record.get("history")), item)
    if helpfulness == "NOT_REALLY":
        return respond(runtime, handler_input, (say(text.message("feedback_thanks_not_really")),))
    thanks = (say(text.message("feedback_thanks")),)
    bridge_allowed = (
        practice.get("exercise") in COPING
        and not attrs.get(BRIDGE_OFFERED)
        and not attrs.get(CRISIS)
    )
    if not bridge_allowed:
        return respond(runtime, handler_input, thanks + (say(text.message("goodbye")),))
    # Evening: a reflection; daytime: the self-compassion break.
    step = "reflection" if now.hour in history.NIGHT_HOURS else "self_compassion"
    attrs[BRIDGE] = step
    attrs[BRIDGE_OFFERED] = True
    return respond(
        runtime,
        handler_input,
        thanks,
        question=say(text.message(f"bridge_{step}")),
        question_kind="bridge",
    )


def take_bridge(runtime: Runtime, handler_input: HandlerInput) -> Response:
    """The person said yes to the healing step."""
    text = content(runtime, handler_input)
    step = session(handler_input).pop(BRIDGE, "self_compassion")
    if step == "reflection":
        record = memory(handler_input)
        heard = record.get("heard") if isinstance(record.get("heard"), list) else []
        seed = zlib.crc32(handler_input.request_envelope.request.request_id.encode())
        # After a coping tool helped: a prompt about noticing what soothes.
        turn = reflection.start(text, heard, seed, theme="patterns")
        record["heard"] = turn.extras["heard"]
        return respond_turn(runtime, handler_input, turn)
    return respond_turn(runtime, handler_input, guided.start(text, "self_compassion"))


class FeedbackHandler(Handler):
    intents = ("FeedbackIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        text = content(self.runtime, handler_input)
        reading = slots.read(handler_input, "helpfulness")
        value = reading.id if reading.id in history.HELPFULNESS else None
        if value is None and reading.value:
            value = slots.resolve_spoken(reading.value, _HELPFULNESS_WORDS)
        if FEEDBACK_FOR not in session(handler_input):
            return menu(self.runtime, handler_input, "fallback")
        if value is None:
            return respond(self.runtime, handler_input, (),
                           question=say(text.message("feedback_unclear")),
                           question_kind="feedback")
        return record_feedback(self.runtime, handler_input, value)


class PatternsHandler(Handler):
    """"What helps me": the person's own history, honestly, never more than it shows."""

    intents = ("PatternsIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        text = content(self.runtime, handler_input)
        found = history.patterns(memory(handler_input).get("history"))
        if found.total == 0:
            return menu(self.runtime, handler_input, "patterns_none")
        if found.total < history.MIN_ENTRIES_FOR_PATTERNS:
            return menu(self.runtime, handler_input, "patterns_too_few")
        speech = []
        if found.best:
            speech.append(fill(text.message("patterns_best"),
                               exercise=practice_name(text, found.best.practice),
                               helped=str(found.best.helped), times=str(found.best.times)))
        else:
            speech.append(say(text.message("patterns_nothing_stood_out")))
        if found.night:
            speech.append(fill(text.message("patterns_night"),
                               exercise=practice_name(text, found.night)))
        if found.day:
            speech.append(fill(text.message("patterns_day"),
                               exercise=practice_name(text, found.day)))
        if found.best:
            return offer(self.runtime, handler_input, tuple(speech), found.best.practice,
                         "patterns_offer")
        return respond(self.runtime, handler_input, tuple(speech),
                       question=say(text.message("menu_question")), question_kind="menu")
