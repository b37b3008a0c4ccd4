"""Paced breathing: a technique's phases repeated for a number of cycles, cue to cue exact.

State (a JSON-safe dict kept in the session and, when paused, in the person's record)::

    {"routine": "breathing", "technique": "BOX", "pace": 3.75, "holds": True,
     "cycles": 15, "done": 0, "current": 12}

``done`` counts cycles finished before the chunk now playing; ``current`` is that chunk's
size. A chunk is one :class:`~skill.plan.Track` of whole cycles that fits Alexa's 240 s, so a
ten-minute practice is three responses joined by "Shall we keep going?".
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

from ..content_model import Content, Technique
from ..plan import Beat, Piece, Say, Track, Turn
from .events import Event
from .timing import CHUNK_BUDGET_SECONDS

ROUTINE = "breathing"
MIN_MINUTES = 1
MAX_MINUTES = 10


def _say(phrase) -> Say:
    return Say(phrase.key, phrase.text)


def phase_lengths(technique: Technique, pace: float, holds: bool) -> tuple[tuple, ...]:
    """(phase, seconds) for one cycle at ``pace`` breaths per minute.

    Every phase is scaled by the same factor so the ratios the technique is known by
    (4-4-4-4, 4-7-8) survive a pace change. Holds are dropped when turned off.
    """
    base = sum(p.seconds for p in technique.phases)
    scale = (60.0 / pace) / base
    return tuple(
        (phase, round(phase.seconds * scale, 3))
        for phase in technique.phases
        if holds or not phase.hold
    )


def cycle_seconds(technique: Technique, pace: float, holds: bool) -> float:
    return round(sum(s for _, s in phase_lengths(technique, pace, holds)), 3)


def max_chunk_cycles(technique: Technique, pace: float, holds: bool) -> int:
    """How many whole cycles fit one response's practice budget."""
    return max(1, math.floor(CHUNK_BUDGET_SECONDS / cycle_seconds(technique, pace, holds)))


def track_key(technique: Technique, pace: float, holds: bool, cycles: int) -> str:
    """The stable name of a timed span, from its parameters alone."""
    suffix = "" if holds or not technique.has_holds else ".noholds"
    return f"breathing.{technique.id}.pace{pace:g}.x{cycles}{suffix}"


@functools.lru_cache(maxsize=1024)
def track(technique: Technique, pace: float, holds: bool, cycles: int) -> Track:
    """The timed span of ``cycles`` breaths (cached: the same few are asked for again and
    again, and returning the same object lets the speech layer's cache hit cheaply)."""
    beats = tuple(
        Beat(phase.cue.key, phase.cue.text, seconds)
        for _ in range(cycles)
        for phase, seconds in phase_lengths(technique, pace, holds)
    )
    return Track(track_key(technique, pace, holds, cycles), beats)


def clamp_pace(technique: Technique, pace: float | None) -> float:
    """The nearest allowed pace; unknown or stale values fall back to the default."""
    allowed = technique.pace.values() or (technique.pace.default,)
    if pace is None:
        return technique.pace.default
    return min(allowed, key=lambda value: abs(value - pace))


def total_cycles(technique: Technique, pace: float, holds: bool, minutes: float) -> int:
    cycles = max(1, round(minutes * 60 / cycle_seconds(technique, pace, holds)))
    if technique.max_cycles:
        cycles = min(cycles, technique.max_cycles)
    return cycles


def choose_technique(content: Content, requested: str | None, last: str | None) -> Technique:
    """The requested technique, else the person's last choice, else the gentle default."""
    for candidate in (requested, last, content.default_technique):
        if candidate in content.techniques:
            return content.techniques[candidate]
    raise KeyError(requested)


def start(
    content: Content,
    technique_id: str | None = None,
    minutes: float | None = None,
    *,
    last_technique: str | None = None,
    paces: dict | None = None,
    holds: bool = True,
) -> Turn:
    """Begin a practice: at most one short sentence before the first cue."""
    technique = choose_technique(content, technique_id, last_technique)
    lead: list[Piece] = []
    if minutes is None:
        wanted = technique.default_minutes
    elif minutes > MAX_MINUTES:
        wanted = MAX_MINUTES
        lead.append(_say(content.message("minutes_clamped_high")))
    elif minutes < MIN_MINUTES:
        wanted = MIN_MINUTES
        lead.append(_say(content.message("minutes_clamped_low")))
    else:
        wanted = minutes
    pace = clamp_pace(technique, (paces or {}).get(technique.id))
    holds = holds or not technique.has_holds
    cycles = total_cycles(technique, pace, holds, wanted)
    unlimited = max(1, round(wanted * 60 / cycle_seconds(technique, pace, holds)))
    if minutes is not None and cycles < unlimited:
        lead.append(_say(content.message("cycles_limited")))
    lead.append(_say(technique.intro))
    if technique.caution and holds:
        lead.append(_say(technique.caution))
    state = {
        "routine": ROUTINE,
        "technique": technique.id,
        "pace": pace,
        "holds": holds,
        "cycles": cycles,
        "done": 0,
        "current": 0,
    }
    return _chunk(content, state, tuple(lead))


def _chunk(content: Content, state: dict, lead: tuple[Piece, ...]) -> Turn:
    """Play the next chunk of cycles from ``state['done']``; finish with the outro."""
    technique = content.techniques[state["technique"]]
    pace, holds = state["pace"], state["holds"]
    size = min(max_chunk_cycles(technique, pace, holds), state["cycles"] - state["done"])
    span = track(technique, pace, holds, size)
    state = {**state, "current": size}
    if state["done"] + size >= state["cycles"]:
        practice = {"exercise": ROUTINE, "technique": technique.id}
        return Turn(lead + (span, _say(technique.outro)), note="finished",
                    extras={"practice": practice})
    keep_going = _say(content.message("keep_going"))
    return Turn(lead + (span,), question=keep_going, state=state, note="chunk")


def step(content: Content, state: dict, event: Event) -> Turn:
    """Answer one control event during a practice."""
    technique = content.techniques[state["technique"]]
    if event is Event.NEXT:
        return _chunk(content, {**state, "done": state["done"] + state["current"]}, ())
    if event is Event.START_OVER:
        fresh = {**state, "done": 0}
        lead = (_say(content.message("start_over")), _say(technique.intro))
        return _chunk(content, fresh, lead)
    if event is Event.RESUME:
        return _chunk(content, state, (_say(content.message("resuming")),))
    if event is Event.REPEAT:
        return _chunk(content, state, ())
    if event in (Event.SLOWER, Event.FASTER):
        return _change_pace(content, state, technique, event)
    raise ValueError(f"unknown event {event!r}")


def without_holds(state: dict) -> dict:
    """The same practice with breath holds left out (asked for, or after dizziness).

    The cycles already done stay done; the rest are shorter, which is the point.
    """
    return {**state, "holds": False}


def _change_pace(content: Content, state: dict, technique: Technique, event: Event) -> Turn:
    """Move one step slower or faster, keeping the practice's remaining time about the same."""
    values = technique.pace.values()
    if len(values) <= 1:
        return _chunk(content, state, (_say(content.message("pace_fixed")),))
    index = values.index(clamp_pace(technique, state["pace"]))
    # Slower means fewer breaths per minute.
    target = index - 1 if event is Event.SLOWER else index + 1
    if not 0 <= target < len(values):
        limit = "pace_at_slowest" if event is Event.SLOWER else "pace_at_fastest"
        return _chunk(content, state, (_say(content.message(limit)),))
    old_cycle = cycle_seconds(technique, state["pace"], state["holds"])
    new_pace = values[target]
    new_cycle = cycle_seconds(technique, new_pace, state["holds"])
    remaining = (state["cycles"] - state["done"]) * old_cycle
    cycles = state["done"] + max(1, round(remaining / new_cycle))
    if technique.max_cycles:
        cycles = min(cycles, technique.max_cycles)
    message = "pace_slower" if event is Event.SLOWER else "pace_faster"
    changed = {**state, "pace": new_pace, "cycles": cycles}
    return _chunk(content, changed, (_say(content.message(message)),))


def variants(content: Content) -> Iterator[Track]:
    """Every track a practice of 1..10 whole minutes can play, at every pace, with and
    without holds: the finite set the audio build renders."""
    seen: set[str] = set()
    for technique in content.techniques.values():
        for pace in technique.pace.values() or (technique.pace.default,):
            for holds in (True, False) if technique.has_holds else (True,):
                limit = max_chunk_cycles(technique, pace, holds)
                for minutes in range(MIN_MINUTES, MAX_MINUTES + 1):
                    cycles = total_cycles(technique, pace, holds, minutes)
                    for size in {min(limit, cycles), cycles % limit or limit}:
                        span = track(technique, pace, holds, size)
                        if span.key not in seen:
                            seen.add(span.key)
                            yield span
