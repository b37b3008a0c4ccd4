"""Shared glue for handlers: content for the request's locale, session keys, the person's
record (with graceful degradation), and turning a routine's :class:`Turn` into a response.

Kept in one place so every handler speaks, asks and remembers the same way.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response
from ask_sdk_model.ui import SimpleCard

from ..content_model import Content, Crisis, Phrase
from ..plan import Piece, Say, Turn
from ..speech import AudioLibrary, render
from ..store import StoreUnavailable

log = logging.getLogger(__name__)

#: Session attribute holding the running routine's state (one key, a JSON-safe dict).
ROUTINE = "routine"
#: Session attribute naming the question just asked, so Yes/No know what they answer.
QUESTION = "question"
#: Session attribute caching the last spoken response, for "repeat" outside a routine.
LAST = "last"

#: Session attributes for the optional question after a practice and the bridge offer.
FEEDBACK_FOR = "feedback_for"
FEEDBACK_ASKED = "feedback_asked"
CRISIS = "crisis"

#: Request attributes (live for one request only).
_MEMORY = "memory"
_SNAPSHOT = "memory_snapshot"
_STORE_DOWN = "store_down"
_TOLD_NO_HISTORY = "told_no_history"


@dataclass(frozen=True)
class Runtime:
    """What handlers need besides the request: content per locale, the audio catalog, and
    crisis lines for locales that hear another locale's words."""

    content: dict[str, Content]
    catalog: AudioLibrary
    default_locale: str = "en-US"
    crisis_lines: dict[str, Crisis] | None = None

    def content_for(self, locale: str | None) -> Content:
        return self.content.get(locale or "", self.content[self.default_locale])

    def crisis_for(self, locale: str | None) -> Crisis:
        """The helpline of the person's own locale, never another country's."""
        if locale in self.content:
            return self.content[locale].crisis
        lines = self.crisis_lines or {}
        if locale in lines:
            return lines[locale]
        if "default" in lines:
            return lines["default"]
        return self.content[self.default_locale].crisis


def content(runtime: Runtime, handler_input: HandlerInput) -> Content:
    return runtime.content_for(handler_input.request_envelope.request.locale)


def say(phrase: Phrase) -> Say:
    return Say(phrase.key, phrase.text)


def session(handler_input: HandlerInput) -> dict:
    """Session attributes, or a throwaway dict for requests that carry no session."""
    attrs = handler_input.attributes_manager.session_attributes
    return attrs if attrs is not None else {}


def running(handler_input: HandlerInput) -> dict | None:
    state = session(handler_input).get(ROUTINE)
    return state if isinstance(state, dict) else None


def memory(handler_input: HandlerInput) -> dict:
    """The person's stored record, loaded lazily once per request.

    A database that is down must never silence an exercise: the person gets an empty record
    for this request ("no history") and the failure is logged by the store, rate-limited.
    """
    request_attrs = handler_input.attributes_manager.request_attributes
    if _MEMORY not in request_attrs:
        try:
            record = handler_input.attributes_manager.persistent_attributes
        except StoreUnavailable:
            record = {}
            request_attrs[_STORE_DOWN] = True
        except AttributeError:  # no persistence adapter configured
            record = {}
            request_attrs[_STORE_DOWN] = True
        request_attrs[_MEMORY] = record
        request_attrs[_SNAPSHOT] = _fingerprint(record)
    return request_attrs[_MEMORY]


def _fingerprint(record: dict) -> str:
    """The record as canonical JSON: a cheaper snapshot than a deep copy, and exactly
    what decides whether anything needs saving."""
    return json.dumps(record, sort_keys=True, default=str)


def memory_changed(handler_input: HandlerInput) -> bool:
    request_attrs = handler_input.attributes_manager.request_attributes
    if _MEMORY not in request_attrs or request_attrs.get(_STORE_DOWN):
        return False
    return _fingerprint(request_attrs[_MEMORY]) != request_attrs[_SNAPSHOT]


def store_down(handler_input: HandlerInput) -> bool:
    return bool(handler_input.attributes_manager.request_attributes.get(_STORE_DOWN))


def respond(
    runtime: Runtime,
    handler_input: HandlerInput,
    speech: tuple[Piece, ...],
    *,
    question: Say | None = None,
    question_kind: str | None = None,
    reprompt: Say | None = None,
    state: dict | None = None,
    card: tuple[str, str] | None = None,
    history_note: bool = True,
) -> Response:
    """Build the response: speech, then the question (also the reprompt) if any.

    A session stays open only when a question is asked, so the microphone never opens
    without a reason and never closes on a question. When the person's record could not
    be read, they are told once per session that today starts fresh (never in a crisis
    response, which must say nothing but what matters).
    """
    text = content(runtime, handler_input)
    voice = text.voice
    audio = runtime.catalog.for_locale(text.locale)  # the locale whose words are spoken
    attrs = session(handler_input)
    if history_note and store_down(handler_input) and not attrs.get(_TOLD_NO_HISTORY):
        speech = (say(text.message("no_history")),) + tuple(speech)
        attrs[_TOLD_NO_HISTORY] = True
    builder = handler_input.response_builder
    if question is not None:
        spoken = render(speech + (question,), voice, audio)
        again = render((reprompt or question,), voice, audio, audio_limit=90.0)
        builder.speak(spoken).ask(again)
        attrs[QUESTION] = question_kind or ("keep_going" if state else "menu")
        if state is None:
            # "Repeat" outside a practice replays this; inside one, the routine replays
            # its chunk, so the (long) practice SSML is not carried in the session.
            attrs[LAST] = {"speech": spoken, "reprompt": again}
        else:
            attrs.pop(LAST, None)
    else:
        builder.speak(render(speech, voice, audio)).set_should_end_session(True)
        attrs.pop(QUESTION, None)
    if state is not None:
        attrs[ROUTINE] = state
    else:
        attrs.pop(ROUTINE, None)
    if card:
        builder.set_card(SimpleCard(title=card[0], content=card[1]))
    return builder.response


def respond_turn(runtime: Runtime, handler_input: HandlerInput, turn: Turn,
                 lead: tuple[Piece, ...] = ()) -> Response:
    """Voice a routine's turn, remembering its state in the session.

    When a practice ends on its own, one optional question may follow (see
    :func:`may_ask_feedback`).
    """
    practice = turn.extras.get("practice")
    if turn.finished and practice and may_ask_feedback(handler_input):
        text = content(runtime, handler_input)
        attrs = session(handler_input)
        attrs[FEEDBACK_FOR] = practice
        attrs[FEEDBACK_ASKED] = True
        # Assume it is ignored until answered; an answer clears this.
        memory(handler_input)["feedback_ignored"] = True
        return respond(
            runtime,
            handler_input,
            lead + turn.speech,
            question=say(text.message("feedback_question")),
            question_kind="feedback",
        )
    return respond(
        runtime,
        handler_input,
        lead + turn.speech,
        question=turn.question,
        question_kind="keep_going" if turn.state else None,
        state=turn.state,
    )


def ask_in_practice(runtime: Runtime, handler_input: HandlerInput, message: str,
                    state: dict) -> Response:
    """Answer mid-practice (help, a misheard phrase) and keep the practice where it is:
    the message ends in its own question, and the reprompt is "Shall we keep going?"."""
    text = content(runtime, handler_input)
    return respond(
        runtime,
        handler_input,
        (),
        question=say(text.message(message)),
        reprompt=say(text.message("keep_going")),
        state=state,
    )


def may_ask_feedback(handler_input: HandlerInput) -> bool:
    """Ask "did that help?" at most once a session, never after a crisis, and never twice
    in a row when the person let the last one pass (that skip is used up here)."""
    attrs = session(handler_input)
    if attrs.get(FEEDBACK_ASKED) or attrs.get(CRISIS):
        return False
    if handler_input.request_envelope.session is None:
        return False
    record = memory(handler_input)
    if record.get("feedback_ignored"):
        record["feedback_ignored"] = False
        return False
    return True


#: The first letter of each sentence, so "{exercise} helps" reads "Box breathing helps".
_SENTENCE_START = re.compile(r"(?:^|(?<=[.?!]\s))[a-z]")


def fill(phrase: Phrase, **values: str) -> Say:
    """A template filled at run time; its key marks it as never pre-rendered."""
    text = _SENTENCE_START.sub(lambda m: m.group(0).upper(), phrase.text.format(**values))
    return Say(f"{phrase.key}#filled", text)


def practice_name(text: Content, practice: str) -> str:
    """The spoken name of a practice id (a technique id, grounding or self_compassion)."""
    if practice in text.techniques:
        return text.techniques[practice].name
    if practice == "grounding":
        return text.grounding.name
    if practice == "self_compassion":
        return text.self_compassion.name
    return practice.replace("_", " ")


def forget_everything(handler_input: HandlerInput) -> None:
    """Delete the person's record now, and make sure nothing writes it back this request."""
    handler_input.attributes_manager.delete_persistent_attributes()
    request_attrs = handler_input.attributes_manager.request_attributes
    request_attrs[_MEMORY] = {}
    request_attrs[_SNAPSHOT] = _fingerprint({})


def menu(runtime: Runtime, handler_input: HandlerInput, offer: str = "menu_question") -> Response:
    """Offer the choice of practices; ``offer`` names a message that ends in that question.

    Used by launch, home, help and every dead end, so a person is never left without a way
    on. The reprompt is always the short menu question.
    """
    text = content(runtime, handler_input)
    return respond(
        runtime,
        handler_input,
        (),
        question=say(text.message(offer)),
        question_kind="menu",
        reprompt=say(text.message("menu_question")),
    )


def empty(handler_input: HandlerInput) -> Response:
    """A response with nothing in it: for events that must not speak."""
    return handler_input.response_builder.response
