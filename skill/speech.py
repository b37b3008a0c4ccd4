"""Speech plan -> SSML, within every limit Alexa sets.

Two ways to voice a piece: a pre-rendered ``<audio>`` file (when the audio build has made one
and the catalog knows it) or text SSML with ``<break>``s. Text is the fallback for anything
not rendered, so the skill works before any audio build and after a partial one.

Timing in text mode: a :class:`~skill.plan.Beat` of 4 s is its cue followed by a break of
4 s *minus the estimated time to say the cue*, so the next cue starts about 4 s after this
one. Breaks longer than Alexa's 10 s maximum are chained.

The limits below come from Alexa's SSML and response references (see ../shared/DESIGN.md);
``check_ssml`` enforces them on every response we build and is reused by the tests.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Protocol
from xml.sax.saxutils import escape, quoteattr

from .content_model import Voice
from .plan import Beat, Pause, Piece, Say, Segment, Tone, Track
from .routines.timing import spoken_seconds

MAX_SSML_CHARS = 8000
MAX_BREAK_SECONDS = 10.0
MAX_AUDIO_TAGS = 5
MAX_AUDIO_SECONDS = 240.0
MAX_REPROMPT_AUDIO_SECONDS = 90.0
#: Breaks shorter than this are inaudible and only cost characters.
MIN_BREAK_SECONDS = 0.05


class SpeechLimitError(Exception):
    """A plan would break one of Alexa's limits; sending it would make Alexa fail aloud."""


@dataclass(frozen=True)
class Clip:
    """A rendered file for one plan piece: where Alexa fetches it and how long it plays."""

    url: str
    seconds: float


class AudioCatalog(Protocol):
    """Looks up rendered audio by plan key (the audio manifest implements this)."""

    def clip(self, key: str) -> Clip | None: ...


class AudioLibrary(Protocol):
    """Every locale's rendered audio; hands out the catalog for one request's locale."""

    def for_locale(self, locale: str) -> AudioCatalog: ...


class NoAudio:
    """The catalog (and library) before any audio build: everything is spoken as text."""

    def clip(self, key: str) -> Clip | None:
        return None

    def for_locale(self, locale: str) -> NoAudio:
        return self


def breaks(seconds: float) -> str:
    """SSML breaks totalling ``seconds``, chained so none exceeds Alexa's 10 s maximum."""
    out = []
    remaining = round(seconds, 3)
    while remaining >= MIN_BREAK_SECONDS:
        part = min(remaining, MAX_BREAK_SECONDS)
        out.append(f'<break time="{round(part * 1000)}ms"/>')
        remaining = round(remaining - part, 3)
    return "".join(out)


def _text_segment(segment: Segment, voice: Voice) -> str:
    if isinstance(segment, Say):
        return escape(segment.text) + " "
    if isinstance(segment, Beat):
        rest = segment.seconds - spoken_seconds(segment.text, voice)
        return escape(segment.text) + breaks(max(0.0, rest))
    if isinstance(segment, Pause | Tone):
        return breaks(segment.seconds)
    raise TypeError(f"not a segment: {segment!r}")


@functools.lru_cache(maxsize=512)
def _track_text(track: Track, voice: Voice) -> str:
    """A track's text SSML. Tracks come from a finite set fixed by content, and a
    breathing chunk is a few hundred segments, so each is rendered once per process."""
    return "".join(_text_segment(seg, voice) for seg in track.segments)


class _Builder:
    """Accumulates SSML parts, grouping consecutive text in one calm ``<prosody>``."""

    def __init__(self, voice: Voice) -> None:
        self.voice = voice
        self.parts: list[str] = []
        self.text: list[str] = []
        self.audio_tags = 0
        self.audio_seconds = 0.0

    def add_text(self, segments: tuple[Segment, ...]) -> None:
        self.text.extend(_text_segment(seg, self.voice) for seg in segments)

    def add_track_text(self, track: Track) -> None:
        self.text.append(_track_text(track, self.voice))

    def add_audio(self, clip: Clip) -> None:
        self._flush()
        self.parts.append(f"<audio src={quoteattr(clip.url)}/>")
        self.audio_tags += 1
        self.audio_seconds += clip.seconds

    def _flush(self) -> None:
        body = "".join(self.text).strip()
        if body:
            self.parts.append(f'<prosody rate="{self.voice.rate}">{body}</prosody>')
        self.text = []

    def ssml(self) -> str:
        self._flush()
        return "<speak>" + "".join(self.parts) + "</speak>"


def render(
    pieces: tuple[Piece, ...],
    voice: Voice,
    catalog: AudioCatalog | None = None,
    *,
    audio_limit: float = MAX_AUDIO_SECONDS,
) -> str:
    """SSML for a plan: rendered audio where available and within limits, text otherwise."""
    catalog = catalog or NoAudio()
    builder = _Builder(voice)
    for piece in pieces:
        key = piece.key if isinstance(piece, Say | Beat | Track) else None
        clip = catalog.clip(key) if key else None
        fits = (
            clip is not None
            and builder.audio_tags < MAX_AUDIO_TAGS
            and builder.audio_seconds + clip.seconds <= audio_limit
        )
        if fits:
            builder.add_audio(clip)
        elif isinstance(piece, Track):
            builder.add_track_text(piece)
        else:
            builder.add_text((piece,))
    ssml = builder.ssml()
    check_ssml(ssml)
    return ssml


_AUDIO_TAG = re.compile(r"<audio\b")
_BREAK_TIME = re.compile(r'<break time="(\d+(?:\.\d+)?)(ms|s)"/>')


def check_ssml(ssml: str) -> None:
    """Raise :class:`SpeechLimitError` when ``ssml`` breaks a limit Alexa enforces."""
    if not (ssml.startswith("<speak>") and ssml.endswith("</speak>")):
        raise SpeechLimitError("SSML must be wrapped in <speak>")
    if len(ssml) >= MAX_SSML_CHARS:
        raise SpeechLimitError(f"SSML is {len(ssml)} characters; Alexa allows under 8000")
    if len(_AUDIO_TAG.findall(ssml)) > MAX_AUDIO_TAGS:
        raise SpeechLimitError("more than five <audio> tags in one response")
    for amount, unit in _BREAK_TIME.findall(ssml):
        seconds = float(amount) / (1000 if unit == "ms" else 1)
        if seconds > MAX_BREAK_SECONDS:
            raise SpeechLimitError(f"a break of {seconds} s exceeds Alexa's 10 s maximum")
