"""The nightly reflection: one prompt, quiet time to think, a soft tone, goodnight.

It is spoken, never recorded: the session ends after it, so the microphone never opens for
an answer. Prompts rotate per person with no repeat until every prompt has been heard; the
rotation (a list of prompt ids heard) lives in the person's record, not in this routine.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from ..content_model import Content, ReflectionPrompt
from ..plan import Pause, Say, Tone, Track, Turn

ROUTINE = "reflection"
SILENCE_KEY = "reflection.silence"


def next_prompt(
    content: Content, heard: list[str], seed: int, theme: str | None = None
) -> tuple[ReflectionPrompt, list]:
    """Pick an unheard prompt; when all have been heard, start a new round.

    Returns the prompt and the updated list of heard ids. ``seed`` makes the choice
    reproducible in tests while varying between people and nights. ``theme`` prefers an
    unheard prompt of that theme (chosen for the moment), without breaking the rotation.
    """
    ids = [p.id for p in content.reflection.prompts]
    heard = [h for h in heard if h in ids]
    unheard = [p for p in content.reflection.prompts if p.id not in heard]
    if not unheard:
        heard, unheard = [], list(content.reflection.prompts)
    themed = [p for p in unheard if p.theme == theme]
    choice = random.Random(seed).choice(themed or unheard)
    return choice, heard + [choice.id]


def silence_track(content: Content) -> Track:
    """Quiet time to reflect, closed by a gentle tone so the end is clearly an end."""
    return Track(SILENCE_KEY, (Pause(content.reflection.silence_seconds), Tone()))


def start(content: Content, heard: list[str], seed: int, theme: str | None = None) -> Turn:
    prompt, heard = next_prompt(content, heard, seed, theme)
    reflection = content.reflection
    speech = (
        Say(reflection.intro.key, reflection.intro.text),
        Say(prompt.text.key, prompt.text.text),
        silence_track(content),
        Say(reflection.outro.key, reflection.outro.text),
    )
    return Turn(speech, note="finished", extras={"heard": heard, "prompt": prompt.id})


def variants(content: Content) -> Iterator[Track]:
    yield silence_track(content)
