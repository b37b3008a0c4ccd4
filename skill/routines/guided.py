"""Hands-free guided practices (5-4-3-2-1 grounding, the self-compassion break).

The person should not have to speak: each response carries as many whole steps as fit one
response's practice budget, then asks one short question ("Shall we keep going?"). Chunk
boundaries are a pure function of content, so each chunk is a stable track the audio build
can render ahead of time.

State: ``{"routine": "grounding", "chunk": 0}``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from ..content_model import Content, GuidedPractice, GuidedStep, Voice
from ..plan import Pause, Piece, Say, Segment, Tone, Track, Turn
from .events import Event
from .timing import pack, plan_seconds

ROUTINES = ("grounding", "self_compassion")


def practice_of(content: Content, routine: str) -> GuidedPractice:
    if routine == "grounding":
        return content.grounding
    if routine == "self_compassion":
        return content.self_compassion
    raise KeyError(routine)


def _segments(step: GuidedStep) -> tuple[Segment, ...]:
    out: list[Segment] = []
    for item in step.items:
        if item.say is not None:
            out.append(Say(item.say.key, item.say.text))
        if item.pause > 0:
            out.append(Pause(item.pause))
        if item.tone:
            out.append(Tone())
    return tuple(out)


@functools.lru_cache(maxsize=64)
def chunks(practice: GuidedPractice, voice: Voice) -> tuple[tuple[int, ...], ...]:
    lengths = [plan_seconds(_segments(step), voice) for step in practice.steps]
    return pack(lengths)


@functools.lru_cache(maxsize=256)
def chunk_track(practice: GuidedPractice, voice: Voice, index: int) -> Track:
    steps = chunks(practice, voice)[index]
    segments = tuple(seg for i in steps for seg in _segments(practice.steps[i]))
    return Track(f"{practice.id}.part{index + 1}", segments)


def _say(phrase) -> Say:
    return Say(phrase.key, phrase.text)


def start(content: Content, routine: str) -> Turn:
    practice = practice_of(content, routine)
    return _play(content, practice, {"routine": routine, "chunk": 0}, (_say(practice.intro),))


def _play(content: Content, practice: GuidedPractice, state: dict, lead: tuple) -> Turn:
    index = state["chunk"]
    span = chunk_track(practice, content.voice, index)
    last = index + 1 >= len(chunks(practice, content.voice))
    if last:
        return Turn(lead + (span, _say(practice.outro)), note="finished",
                    extras={"practice": {"exercise": state["routine"], "technique": None}})
    return Turn(lead + (span,), question=_say(practice.keep_going), state=state, note="chunk")


def step(content: Content, state: dict, event: Event) -> Turn:
    practice = practice_of(content, state["routine"])
    if event is Event.NEXT:
        return _play(content, practice, {**state, "chunk": state["chunk"] + 1}, ())
    if event is Event.START_OVER:
        lead: tuple[Piece, ...] = (_say(content.message("start_over")), _say(practice.intro))
        return _play(content, practice, {**state, "chunk": 0}, lead)
    if event is Event.RESUME:
        return _play(content, practice, state, (_say(content.message("resuming")),))
    if event is Event.REPEAT:
        return _play(content, practice, state, ())
    if event in (Event.SLOWER, Event.FASTER):
        # Guided practices have no pace; say so and keep the practice where it is.
        return Turn(
            (_say(content.message("pace_not_here")),),
            question=_say(practice.keep_going),
            state=state,
            note="no_pace",
        )
    raise ValueError(f"unknown event {event!r}")


def variants(content: Content) -> Iterator[Track]:
    for routine in ROUTINES:
        practice = practice_of(content, routine)
        for index in range(len(chunks(practice, content.voice))):
            yield chunk_track(practice, content.voice, index)
