"""The speech layer: breaks chained under 10 s, escaping, limits enforced, audio fallback."""

from __future__ import annotations

import pytest

from skill.content_model import Voice
from skill.plan import Beat, Pause, Say, Tone, Track
from skill.speech import Clip, SpeechLimitError, breaks, check_ssml, render
from skill.transcript import readable
from tests.alexa_limits import check_ssml as alexa_check

VOICE = Voice(rate="90%", words_per_second=2.5)


@pytest.mark.parametrize("seconds, expected", [
    (0.0, ""),
    (0.04, ""),
    (4.0, '<break time="4000ms"/>'),
    (10.0, '<break time="10000ms"/>'),
    (10.5, '<break time="10000ms"/><break time="500ms"/>'),
    (60.0, '<break time="10000ms"/>' * 6),
])
def test_breaks_never_exceed_ten_seconds(seconds, expected):
    assert breaks(seconds) == expected


def test_text_is_escaped_and_wrapped_in_calm_prosody():
    ssml = render((Say("k", "Rest & breathe <slowly>"),), VOICE)
    assert ssml == '<speak><prosody rate="90%">Rest &amp; breathe &lt;slowly&gt;</prosody></speak>'
    alexa_check(ssml)


def test_a_beat_subtracts_the_spoken_time_of_its_cue():
    # "Breathe in." is 2 words: 2 / 2.5 + 0.2 = 1.0 s spoken, so 3.0 s of quiet.
    ssml = render((Beat("cue", "Breathe in.", 4.0),), VOICE)
    assert readable(ssml) == "Breathe in. [pause 3.0s]"


def test_a_cue_longer_than_its_beat_gets_no_negative_pause():
    ssml = render((Beat("cue", "A very long cue that takes far too long to say.", 1.0),), VOICE)
    assert "[pause" not in readable(ssml)


def test_pause_and_tone_become_silence():
    ssml = render((Pause(25.0), Tone()), VOICE)
    assert readable(ssml) == "[pause 26.5s]"
    alexa_check(ssml)


class Catalog:
    def __init__(self, clips):
        self.clips = clips

    def clip(self, key):
        return self.clips.get(key)


def test_rendered_pieces_become_audio_and_the_rest_stays_text():
    track = Track("t1", (Beat("c", "In.", 4.0), Beat("c2", "Out.", 4.0)))
    catalog = Catalog({"t1": Clip("https://cdn.example/abc.mp3", 8.0)})
    ssml = render((Say("intro", "Hello."), track, Say("outro", "Bye.")), VOICE, catalog)
    assert readable(ssml) == "Hello. [audio abc.mp3] Bye."
    alexa_check(ssml)


def test_more_than_five_clips_fall_back_to_text():
    pieces = tuple(Say(f"k{i}", f"Phrase {i}.") for i in range(7))
    catalog = Catalog({f"k{i}": Clip(f"https://cdn.example/{i}.mp3", 2.0) for i in range(7)})
    ssml = render(pieces, VOICE, catalog)
    assert ssml.count("<audio") == 5
    assert "Phrase 5." in ssml and "Phrase 6." in ssml


def test_audio_over_240_seconds_falls_back_to_text():
    pieces = (Track("a", (Pause(1.0),)), Track("b", (Beat("c", "In.", 4.0),)))
    catalog = Catalog({"a": Clip("https://x/a.mp3", 200.0), "b": Clip("https://x/b.mp3", 50.0)})
    ssml = render(pieces, VOICE, catalog)
    assert ssml.count("<audio") == 1 and "In." in ssml


def test_a_plan_too_long_for_one_response_is_refused_not_sent():
    pieces = tuple(Say(f"k{i}", "word " * 40) for i in range(50))
    with pytest.raises(SpeechLimitError):
        render(pieces, VOICE)


@pytest.mark.parametrize("bad", [
    "no speak tag",
    "<speak>" + "x" * 8000 + "</speak>",
    "<speak>" + '<audio src="https://a/b.mp3"/>' * 6 + "</speak>",
    '<speak><break time="11s"/></speak>',
])
def test_check_ssml_rejects_what_alexa_rejects(bad):
    with pytest.raises(SpeechLimitError):
        check_ssml(bad)
