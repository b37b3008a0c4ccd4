"""Shared glue for handlers: content for the request's locale, session keys, the person's
record (with graceful degradation), and turning a routine's :class:`Turn` into a response.

Kept in one place so every handler speaks, asks and remembers the same way.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response
from ask_sdk_model.ui import SimpleCard

from ..content_model import Content, Phrase
from ..plan import Piece, Say, Turn
from ..speech import AudioCatalog, render
from ..store import StoreUnavailable

log = logging.getLogger(__name__)

#: Session attribute holding the running routine's state (one key, a JSON-safe dict).
ROUTINE = "routine"
#: Session attribute naming the question just asked, so Yes/No know what they answer.
QUESTION = "question"
#: Session attribute caching the last spoken response, for "repeat" outside a routine.
LAST = "last"

#: Request attributes (live for one request only).
_MEMORY = "memory"
_SNAPSHOT = "memory_snapshot"
_STORE_DOWN = "store_down"
_TOLD_NO_HISTORY = "told_no_history"


@dataclass(frozen=True)
class Runtime:
    """What handlers need besides the request: content per locale and the audio catalog."""

    content: dict[str, Content]
    catalog: AudioCatalog
    default_locale: str = "en-US"

    def content_for(self, locale: str | None) -> Content:
        return self.content.get(locale or "", self.content[self.default_locale])


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
        request_attrs[_SNAPSHOT] = copy.deepcopy(record)
    return request_attrs[_MEMORY]


def memory_changed(handler_input: HandlerInput) -> bool:
    request_attrs = handler_input.attributes_manager.request_attributes
    if _MEMORY not in request_attrs or request_attrs.get(_STORE_DOWN):
        return False
    return request_attrs[_MEMORY] != request_attrs[_SNAPSHOT]


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
    attrs = session(handler_input)
    if history_note and store_down(handler_input) and not attrs.get(_TOLD_NO_HISTORY):
        speech = (say(text.message("no_history")),) + tuple(speech)
        attrs[_TOLD_NO_HISTORY] = True
    builder = handler_input.response_builder
    if question is not None:
        spoken = render(speech + (question,), voice, runtime.catalog)
        again = render((reprompt or question,), voice, runtime.catalog, audio_limit=90.0)
        builder.speak(spoken).ask(again)
        attrs[QUESTION] = question_kind or ("keep_going" if state else "menu")
        attrs[LAST] = {"speech": spoken, "reprompt": again}
    else:
        builder.speak(render(speech, voice, runtime.catalog)).set_should_end_session(True)
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
    """Voice a routine's turn, remembering its state in the session."""
    return respond(
        runtime,
        handler_input,
        lead + turn.speech,
        question=turn.question,
        question_kind="keep_going" if turn.state else None,
        state=turn.state,
    )


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
