"""Pure exercise state machines: state + event -> speech plan + next state.

Nothing here imports ``ask_sdk`` or ``flask``; handlers translate requests into calls on
these functions and turns into responses. :func:`step` routes a control event to the routine
named in the state, so handlers need not know which exercise is running.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..content_model import Content
from ..plan import Track, Turn
from . import breathing, guided, reflection
from .events import Event

__all__ = ["Event", "breathing", "guided", "reflection", "step", "is_valid_state", "tracks"]


def step(content: Content, state: dict, event: Event) -> Turn:
    """Apply ``event`` to the running routine described by ``state``."""
    routine = state.get("routine")
    if routine == breathing.ROUTINE:
        return breathing.step(content, state, event)
    if routine in guided.ROUTINES:
        return guided.step(content, state, event)
    raise ValueError(f"no running routine in state {state!r}")


def is_valid_state(content: Content, state: object) -> bool:
    """Whether a stored position can still be resumed with today's content.

    Content may change between a pause and a resume (a technique renamed, a step removed);
    a stale position is dropped rather than crashing mid-exercise.
    """
    if not isinstance(state, dict):
        return False
    try:
        if state.get("routine") == breathing.ROUTINE:
            technique = content.techniques[state["technique"]]
            return (
                0 <= int(state["done"]) < int(state["cycles"])
                and int(state["current"]) >= 0
                and float(state["pace"]) > 0
                and isinstance(state["holds"], bool)
                and technique is not None
            )
        if state.get("routine") in guided.ROUTINES:
            practice = guided.practice_of(content, state["routine"])
            return 0 <= int(state["chunk"]) < len(guided.chunks(practice, content.voice))
    except (KeyError, TypeError, ValueError):
        return False
    return False


def tracks(content: Content) -> Iterator[Track]:
    """Every timed span any routine can play, for the audio build."""
    yield from breathing.variants(content)
    yield from guided.variants(content)
    yield from reflection.variants(content)
