"""What a build contains, and the hashes that say when something must be rendered again.

Two kinds of hash:

* a **speech key** -- hash(engine, voice settings, text) -- names one phrase as the engine
  speaks it; it is the phrase cache's file name, so a phrase is synthesised once ever;
* a **recipe** -- hash(assembly settings, and the speech keys and timings of everything in
  a piece) -- says what a manifest piece was made from. A piece whose recipe is unchanged
  and whose file is still there is not rebuilt; editing one phrase changes its speech key,
  and so the recipes of that phrase and of exactly the tracks that use it.

Everything here is pure and cheap (no audio is touched), which is what makes a rebuild with
nothing to do take about a second.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..content import all_phrases
from ..content_model import Content
from ..plan import Beat, Pause, Say, Tone, Track
from ..routines import tracks
from .assembly import SETTINGS as ASSEMBLY
from .engines import Engine

#: A phrase with a ``{name}`` placeholder is a template the skill fills in per person.
TEMPLATE = re.compile(r"\{\w+\}")


def _digest(value: object) -> str:
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def speech_key(engine: Engine, locale: str, text: str) -> str:
    return _digest([engine.name, engine.settings(locale), text])


@dataclass(frozen=True)
class Piece:
    """One entry of the manifest to be: a phrase (``track`` is None) or a track.

    ``speech`` maps each phrase key used to its (speech key, text), so a build knows which
    cached phrases it needs; ``default`` says whether a build without ``--all`` makes it.
    """

    locale: str
    key: str
    recipe: str
    speech: tuple[tuple[str, str, str], ...]
    track: Track | None = None
    default: bool = True

    @property
    def kind(self) -> str:
        return "phrase" if self.track is None else "track"


def _segment_recipe(seg, speech: dict) -> list:
    if isinstance(seg, Beat):
        return ["beat", seg.key, speech[seg.key], seg.seconds]
    if isinstance(seg, Say):
        return ["say", seg.key, speech[seg.key]]
    if isinstance(seg, Pause):
        return ["pause", seg.seconds]
    if isinstance(seg, Tone):
        return ["tone", seg.seconds]
    raise TypeError(f"not a segment: {seg!r}")


def default_paces(content: Content) -> set[str]:
    """Key prefixes of the breathing tracks at each technique's default pace.

    Only these are built without ``--all``: most people never change the pace, and a
    practice at another pace falls back to text until the full set is built.
    """
    return {f"breathing.{t.id}.pace{t.pace.default:g}.x" for t in content.techniques.values()}


def pieces(content: Content, engine: Engine) -> Iterator[Piece]:
    """Every piece that could be in the manifest for ``content``: phrases, then tracks."""
    locale = content.locale
    keys: dict[str, str] = {}

    def spoken(key: str, text: str) -> tuple[str, str, str]:
        if key not in keys:
            keys[key] = speech_key(engine, locale, text)
        return (key, keys[key], text)

    for key, phrase in all_phrases(content).items():
        if TEMPLATE.search(phrase.text):
            continue  # filled in at run time ("{exercise}"), so spoken as text
        speech = (spoken(key, phrase.text),)
        yield Piece(locale, key, _digest(["phrase", ASSEMBLY, speech[0][1]]), speech)
    defaults = default_paces(content)
    for track in tracks(content):
        used = {}
        for seg in track.segments:
            if isinstance(seg, Beat | Say):
                used[seg.key] = spoken(seg.key, seg.text)
        by_key = {key: sk for key, (_, sk, _) in used.items()}
        recipe = _digest(["track", ASSEMBLY, [_segment_recipe(s, by_key) for s in track.segments]])
        default = not track.key.startswith("breathing.") or any(
            track.key.startswith(prefix) for prefix in defaults
        )
        yield Piece(locale, track.key, recipe, tuple(used.values()), track, default)


def matches(key: str, only: Iterable[str]) -> bool:
    """Whether ``key`` is selected by ``--only`` prefixes (a routine, technique or key)."""
    only = tuple(only)
    return not only or any(key == p or key.startswith(p.rstrip(".") + ".") for p in only)


def select(
    candidates: Iterable[Piece],
    *,
    only: Iterable[str] = (),
    locales: Iterable[str] | None = None,
    everything: bool = False,
) -> list[Piece]:
    """The pieces this build should make sure of (``everything`` is ``--all``)."""
    only = tuple(only)
    wanted_locales = set(locales) if locales is not None else None
    return [
        p
        for p in candidates
        if (everything or p.default)
        and matches(p.key, only)
        and (wanted_locales is None or p.locale in wanted_locales)
    ]
