"""Frozen objects that the content loader builds from ``content/<locale>/*.yaml``.

Everything a person hears, every pause and every timing lives in YAML; these classes are its
validated, immutable shape. Routines read only these objects, never the YAML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Phrase:
    """A spoken phrase; ``key`` is stable (e.g. ``"breathing.BOX.intro"``) and unique.

    ``fields`` names the ``{placeholders}`` of a template (e.g. ``("exercise",)``); a
    template is filled at run time, so it is never pre-rendered as audio.
    """

    key: str
    text: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Phase:
    """One phase of a breath cycle: a cue spoken at its start, lasting ``seconds``.

    ``seconds`` is the length at the technique's default pace. ``hold`` marks a breath hold,
    which a person can turn off.
    """

    name: str
    seconds: float
    cue: Phrase
    hold: bool = False


@dataclass(frozen=True)
class PaceRange:
    """Allowed paces in breaths per minute; phases are scaled so one cycle lasts 60/pace s.

    ``min == max`` means the technique keeps its own rhythm (e.g. 4-7-8).
    """

    default: float
    min: float
    max: float
    step: float

    def values(self) -> tuple[float, ...]:
        """Every allowed pace, slowest first (a finite set, so the build can render each)."""
        count = round((self.max - self.min) / self.step) if self.step else 0
        return tuple(round(self.min + i * self.step, 3) for i in range(count + 1))


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    intro: Phrase
    outro: Phrase
    caution: Phrase | None
    phases: tuple[Phase, ...]
    pace: PaceRange
    max_cycles: int | None
    default_minutes: float
    source: str

    @property
    def has_holds(self) -> bool:
        return any(p.hold for p in self.phases)


@dataclass(frozen=True)
class GuidedItem:
    """One line of a guided practice: an optional phrase, then ``pause`` seconds of quiet."""

    say: Phrase | None
    pause: float
    tone: bool = False


@dataclass(frozen=True)
class GuidedStep:
    id: str
    items: tuple[GuidedItem, ...]


@dataclass(frozen=True)
class GuidedPractice:
    """A hands-free practice (grounding, self-compassion): steps played in order.

    ``keep_going`` is the one short question that ends every response but the last.
    """

    id: str
    name: str
    intro: Phrase
    steps: tuple[GuidedStep, ...]
    outro: Phrase
    keep_going: Phrase


@dataclass(frozen=True)
class ReflectionPrompt:
    id: str
    theme: str
    text: Phrase


@dataclass(frozen=True)
class Reflection:
    intro: Phrase
    prompts: tuple[ReflectionPrompt, ...]
    silence_seconds: float
    outro: Phrase


@dataclass(frozen=True)
class Crisis:
    message: Phrase
    card_title: str
    card_text: str
    source: str
    checked: str


@dataclass(frozen=True)
class Reminder:
    """The nightly reminder: what Alexa says when it rings, and the time zone used when the
    device's own cannot be read (a reminder must always name one)."""

    text: Phrase
    default_time_zone: str


@dataclass(frozen=True)
class Voice:
    """Prosody for text speech and the speaking-rate estimate used to time text cues."""

    rate: str
    words_per_second: float


@dataclass(frozen=True)
class Content:
    locale: str
    techniques: Mapping[str, Technique]
    default_technique: str
    grounding: GuidedPractice
    self_compassion: GuidedPractice
    reflection: Reflection
    messages: Mapping[str, Phrase]
    crisis: Crisis
    voice: Voice
    reminder: Reminder

    def message(self, name: str) -> Phrase:
        return self.messages[name]


def frozen_mapping(items: Mapping) -> Mapping:
    """A read-only view, so loaded content cannot be changed by accident at run time."""
    return MappingProxyType(dict(items))
