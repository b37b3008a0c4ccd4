"""The timing rule of the assembler, without audio: where each sound of a track starts."""

from __future__ import annotations

import pytest

from skill.content import load_content
from skill.plan import Beat, Pause, Say, Tone, Track
from skill.render.assembly import TimingError, schedule
from skill.render.engines import Espeak, Gtts
from skill.render.recipes import matches, pieces, select
from tests.audio.helpers import CONTENT


def test_beats_start_a_fixed_time_apart_whatever_the_words_last():
    track = Track("t", (Beat("in", "Breathe in.", 4.0), Beat("out", "Breathe out.", 6.0),
                        Beat("in", "Breathe in.", 4.0)))
    plan = schedule(track, {"in": 0.7, "out": 1.9})
    assert plan.cues == ((0.0, "in"), (4.0, "out"), (10.0, "in"))
    assert plan.seconds == 14.0


def test_a_pause_starts_after_the_speech_ends_and_a_tone_takes_its_time():
    track = Track("t", (Say("a", "Notice five things."), Pause(4.0), Say("b", "Good."),
                        Pause(2.0), Tone(seconds=1.5)))
    plan = schedule(track, {"a": 1.25, "b": 0.5})
    assert plan.cues == ((0.0, "a"), (5.25, "b"))
    assert [(p.onset, p.key) for p in plan.placements][-1] == (7.75, "tone")
    assert plan.seconds == 9.25


def test_a_cue_that_would_run_into_the_next_is_refused():
    track = Track("t", (Beat("top", "A little more.", 2.0), Beat("out", "Out.", 7.0)))
    with pytest.raises(TimingError, match="too long for its 2 s beat"):
        schedule(track, {"top": 1.9, "out": 0.5})


def test_a_track_alexa_could_not_play_in_one_file_is_refused():
    track = Track("t", (Pause(200.0), Say("a", "Done."), Pause(40.0)))
    with pytest.raises(TimingError, match="at most 240 s"):
        schedule(track, {"a": 1.0})


def test_only_selects_by_key_prefix():
    assert matches("breathing.BOX.pace3.75.x4", ["breathing"])
    assert matches("breathing.BOX.pace3.75.x4", ["breathing.BOX"])
    assert not matches("breathing.BOXER.intro", ["breathing.BOX"])
    assert matches("messages.welcome", [])


def test_the_default_build_has_default_paces_both_holds_and_everything_else():
    content = load_content("en-US", CONTENT)
    every = list(pieces(content, Espeak()))
    default = {p.key for p in select(every)}
    box = content.techniques["BOX"]
    assert f"breathing.BOX.pace{box.pace.default:g}.x4" in default
    assert f"breathing.BOX.pace{box.pace.default:g}.x5.noholds" in default
    assert not any(k.startswith(f"breathing.BOX.pace{box.pace.max:g}.") for k in default)
    assert {"grounding.part1", "reflection.silence", "messages.welcome"} <= default
    assert len(select(every, everything=True)) > len(default)
    # Templates are filled per person at run time, so they are never rendered.
    assert not any("{" in text for p in every for _, _, text in p.speech)


def test_recipes_change_with_the_voice_but_not_between_runs():
    content = load_content("en-US", CONTENT)
    first = {p.key: p.recipe for p in pieces(content, Espeak())}
    assert first == {p.key: p.recipe for p in pieces(content, Espeak())}
    slower = {p.key: p.recipe for p in pieces(content, Espeak(rate=120))}
    assert slower["messages.welcome"] != first["messages.welcome"]
    assert slower["reflection.silence"] == first["reflection.silence"]  # no words in it
    google = {p.key: p.recipe for p in pieces(content, Gtts())}
    assert google["messages.welcome"] != first["messages.welcome"]
