"""The speech plan: what a routine wants said, as data, with no SSML and no platform.

The plan is the seam between the routines (which decide *what* happens), the speech layer
(which turns a plan into SSML, or into ``<audio>`` tags when the audio build has rendered a
piece) and the audio build (which pre-renders every piece ahead of time). Every piece is
named by a stable key derived from content alone, so the build can enumerate all of them and
the speech layer can look each one up in the audio manifest.

Four kinds of segment:

* :class:`Say` -- one phrase from content, spoken at its natural length.
* :class:`Pause` -- silence, in seconds, after whatever came before.
* :class:`Beat` -- a cue whose slot is exactly ``seconds`` long *from the cue's start to the
  next segment's start*. Breathing phases are beats: a 4 s inhale is 4 s cue to cue, not 4 s
  plus the words.
* :class:`Track` -- a timed span (e.g. "box breathing, four rounds at pace 3.75"): a run of
  the segments above that the audio build renders as one file under ``key``. Tracks never
  nest.

And one closing marker, :class:`Tone`, a soft transition chime (the end of a silent
reflection). Without rendered audio it is a short silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Say:
    """A phrase from content, looked up by ``key``; ``text`` is what is spoken."""

    key: str
    text: str


@dataclass(frozen=True)
class Pause:
    """Silence of ``seconds`` after the previous segment ends."""

    seconds: float


@dataclass(frozen=True)
class Beat:
    """A cue that starts a slot of exactly ``seconds``, measured cue start to next start."""

    key: str
    text: str
    seconds: float


@dataclass(frozen=True)
class Tone:
    """A gentle transition chime of ``seconds`` (rendered by the audio build)."""

    key: str = "tone.soft"
    seconds: float = 1.5


Segment = Say | Pause | Beat | Tone


@dataclass(frozen=True)
class Track:
    """A timed span that the audio build renders as one file named by ``key``."""

    key: str
    segments: tuple[Segment, ...]


Piece = Segment | Track


@dataclass(frozen=True)
class Turn:
    """What a routine answers to one event.

    ``speech`` is played in order. ``question`` (when not ``None``) is asked at the end and is
    also the reprompt: a session stays open only when there is a question. ``state`` is the
    routine state to keep (a JSON-safe dict) or ``None`` when the routine is over. ``note``
    is a short machine-readable outcome for handlers and logs (e.g. ``"finished"``).
    """

    speech: tuple[Piece, ...]
    question: Say | None = None
    state: dict | None = None
    note: str = ""
    extras: dict = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.state is None


def segments_of(pieces: tuple[Piece, ...]) -> tuple[Segment, ...]:
    """Flatten tracks into their segments, for text rendering and timing estimates."""
    out: list[Segment] = []
    for piece in pieces:
        if isinstance(piece, Track):
            out.extend(piece.segments)
        else:
            out.append(piece)
    return tuple(out)
