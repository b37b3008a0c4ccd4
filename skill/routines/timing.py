"""Duration estimates and chunking shared by the routines.

Alexa plays at most 240 s of audio in one response, so every routine cuts its practice into
chunks that stay well inside that (``CHUNK_BUDGET_SECONDS``), leaving room for the short
intro, outro and question spoken around a chunk. Estimates use the content's speaking rate;
once the audio build has measured real durations, the speech layer checks the real limit.
"""

from __future__ import annotations

from ..content_model import Voice
from ..plan import Beat, Pause, Piece, Say, Tone, segments_of

#: Most practice time one response may carry; the other ~40 s is for words around it.
CHUNK_BUDGET_SECONDS = 200.0
#: Alexa's hard limit for all audio in one response.
RESPONSE_LIMIT_SECONDS = 240.0


def spoken_seconds(text: str, voice: Voice) -> float:
    """Roughly how long ``text`` takes to say at the content's calm speaking rate."""
    words = len(text.split())
    return round(words / voice.words_per_second + 0.2, 3) if words else 0.0


def plan_seconds(pieces: tuple[Piece, ...], voice: Voice) -> float:
    """Estimated playing time of a plan: beats are exact, phrases are estimated."""
    total = 0.0
    for seg in segments_of(pieces):
        if isinstance(seg, Beat):
            total += seg.seconds
        elif isinstance(seg, Pause | Tone):
            total += seg.seconds
        elif isinstance(seg, Say):
            total += spoken_seconds(seg.text, voice)
    return round(total, 3)


def pack(lengths: list[float], budget: float = CHUNK_BUDGET_SECONDS) -> tuple[tuple[int, ...], ...]:
    """Group consecutive item indices into chunks whose summed length fits ``budget``.

    An item longer than the budget gets a chunk of its own (content validation keeps
    single steps well under it). Pure and deterministic, so chunk boundaries are a
    function of content alone and the audio build can render each chunk as one track.
    """
    chunks: list[tuple[int, ...]] = []
    current: list[int] = []
    used = 0.0
    for index, length in enumerate(lengths):
        if current and used + length > budget:
            chunks.append(tuple(current))
            current, used = [], 0.0
        current.append(index)
        used += length
    if current:
        chunks.append(tuple(current))
    return tuple(chunks)
