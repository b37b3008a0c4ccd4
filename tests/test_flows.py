"""Every practice and every control, end to end through POST /alexa with real envelopes.

Expected words come from the loaded content, never copied here, so a content edit cannot
break a test while a behaviour change always does.
"""

from __future__ import annotations

import logging
import re

import pytest

from skill.content import load_content
from skill.routines import Event, breathing

C = load_content("en-US")
TECHNIQUES = list(C.techniques)


def msg(name: str) -> str:
    return C.message(name).text


def pauses(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"\[pause (\d+\.\d)s\]", text)]


def cue_count(text: str, technique) -> int:
    cues = {p.cue.text for p in technique.phases}
    return sum(text.count(cue) for cue in cues)


def run_to_end(talk, limit: int = 10) -> list[str]:
    """Say "yes" to every "Shall we keep going?" until the practice ends (the optional
    "did that help?" that may follow is left unanswered)."""
    texts = [talk.text]
    while talk.open and talk.session.get("question") == "keep_going" and limit:
        talk.intent("AMAZON.YesIntent")
        texts.append(talk.text)
        limit -= 1
    return texts


# --- launch ---------------------------------------------------------------------------

def test_first_launch_welcomes_and_asks(talk):
    talk.launch()
    assert msg("welcome") in talk.text
    assert talk.open and msg("menu_question") in talk.reprompt


def test_second_launch_is_shorter(talk):
    talk.launch()
    talk.intent("AMAZON.StopIntent")
    talk.launch()
    assert msg("welcome_back") in talk.text
    assert msg("welcome") not in talk.text


# --- breathing ------------------------------------------------------------------------

@pytest.mark.parametrize("technique_id", TECHNIQUES)
def test_each_technique_runs_to_a_clear_end(talk, technique_id):
    technique = C.techniques[technique_id]
    talk.intent("BreathingIntent", {"technique": ("whatever", technique_id), "minutes": "3"})
    first = talk.text
    assert first.index(technique.intro.text) < first.index(technique.phases[0].cue.text)
    texts = run_to_end(talk)
    whole = " ".join(texts)
    assert technique.outro.text in texts[-1]
    assert "routine" not in talk.session
    assert texts[-1].endswith(msg("feedback_question"))  # the one optional question
    pace = technique.pace.default
    expected = breathing.total_cycles(technique, pace, True, 3)
    assert cue_count(whole, technique) == expected * len(technique.phases)


@pytest.mark.parametrize("technique_id", TECHNIQUES)
def test_cue_to_cue_timing_in_text_mode(talk, technique_id):
    """A phase of N seconds: the pause after its cue is N minus the cue's spoken time."""
    technique = C.techniques[technique_id]
    talk.intent("BreathingIntent", {"technique": ("x", technique_id), "minutes": "1"})
    text = talk.text
    first_cue = technique.phases[0].cue.text
    segment = text[text.index(first_cue):]
    found = pauses(segment)[: len(technique.phases)]
    for phase, pause in zip(technique.phases, found, strict=True):
        spoken = len(phase.cue.text.split()) / C.voice.words_per_second + 0.2
        assert pause == pytest.approx(phase.seconds - spoken, abs=0.06)


def test_ten_minutes_is_split_into_responses_under_the_limit(talk):
    talk.intent("BreathingIntent", {"technique": ("box", "BOX"), "minutes": "10"})
    texts = run_to_end(talk)
    assert len(texts) >= 3
    for text in texts:
        assert sum(pauses(text)) < 240
    for text in texts[:-1]:
        assert msg("keep_going") in text


@pytest.mark.parametrize(
    "minutes, message",
    [("25", "minutes_clamped_high"), ("0", "minutes_clamped_low")],
)
def test_minutes_out_of_range_are_clamped_and_said(talk, minutes, message):
    talk.intent("BreathingIntent", {"technique": ("box", "BOX"), "minutes": minutes})
    assert talk.text.startswith(msg(message))


def test_four_seven_eight_is_limited_and_says_so(talk):
    technique = C.techniques["FOUR_SEVEN_EIGHT"]
    talk.intent("BreathingIntent", {"technique": ("478", "FOUR_SEVEN_EIGHT"), "minutes": "10"})
    assert msg("cycles_limited") in talk.text
    whole = " ".join(run_to_end(talk))
    assert cue_count(whole, technique) == technique.max_cycles * len(technique.phases)


def test_unknown_technique_gets_a_kind_correction(talk):
    talk.intent("BreathingIntent", {"technique": "underwater breathing"})
    assert talk.text == msg("technique_unknown")
    assert talk.open
    talk.intent("BreathingIntent", {"technique": ("box", "BOX")})
    assert C.techniques["BOX"].intro.text in talk.text


def test_spoken_value_is_used_when_resolution_failed(talk):
    name = C.techniques["RESONANCE"].name
    talk.intent("BreathingIntent", {"technique": name})
    assert C.techniques["RESONANCE"].intro.text in talk.text


def test_no_technique_uses_default_then_last_choice(talk, new_talk):
    talk.intent("BreathingIntent")
    assert C.techniques[C.default_technique].intro.text in talk.text
    talk.intent("AMAZON.StopIntent")
    talk.intent("BreathingIntent", {"technique": ("box", "BOX")}, new_session=True)
    talk.intent("AMAZON.StopIntent")
    talk.intent("BreathingIntent", new_session=True)
    assert C.techniques["BOX"].intro.text in talk.text


def test_pace_slower_then_limit_and_remembered(talk):
    technique = C.techniques["RESONANCE"]
    talk.intent("BreathingIntent", {"technique": ("r", "RESONANCE"), "minutes": "5"})
    steps = len(technique.pace.values())
    talk.intent("PaceIntent", {"pace": ("slower", "SLOWER")})
    assert talk.text.startswith(msg("pace_slower"))
    slower = talk.session["routine"]["pace"]
    assert slower < technique.pace.default
    for _ in range(steps):
        talk.intent("PaceIntent", {"pace": ("slower", "SLOWER")})
    assert talk.text.startswith(msg("pace_at_slowest"))
    assert talk.session["routine"]["pace"] == technique.pace.min
    talk.intent("AMAZON.StopIntent")
    talk.intent("BreathingIntent", {"technique": ("r", "RESONANCE")}, new_session=True)
    assert talk.session["routine"]["pace"] == technique.pace.min


def test_fixed_rhythm_technique_says_so():
    # 4-7-8 always fits one response, so this is reached only by the routine itself.
    state = {"routine": "breathing", "technique": "FOUR_SEVEN_EIGHT", "holds": True,
             "pace": C.techniques["FOUR_SEVEN_EIGHT"].pace.default, "cycles": 4, "done": 0,
             "current": 4}
    turn = breathing.step(C, state, Event.FASTER)
    assert turn.speech[0].text == msg("pace_fixed")
    assert turn.finished


def test_pace_outside_breathing(talk):
    talk.intent("PaceIntent", {"pace": ("slower", "SLOWER")})
    assert msg("pace_not_breathing") in talk.text and talk.open
    talk.intent("GroundingIntent")
    talk.intent("PaceIntent", {"pace": ("slower", "SLOWER")})
    assert talk.text == f'{msg("pace_not_here")} {C.grounding.keep_going.text}'
    assert talk.open
    assert talk.session["routine"]["routine"] == "grounding"


# --- controls mid-exercise ------------------------------------------------------------

def test_pause_then_resume_in_a_new_session(talk):
    talk.intent("BreathingIntent", {"technique": ("box", "BOX"), "minutes": "10"})
    talk.intent("AMAZON.YesIntent")
    position = talk.session["routine"]
    talk.intent("AMAZON.PauseIntent")
    assert talk.text == msg("paused") and not talk.open
    talk.intent("AMAZON.ResumeIntent", new_session=True)
    assert talk.text.startswith(msg("resuming"))
    assert talk.session["routine"] == position
    # Resumed once; a second resume in a new session has nothing to pick up.
    talk.intent("AMAZON.StopIntent")
    talk.intent("AMAZON.ResumeIntent", new_session=True)
    assert talk.text.startswith(msg("resuming"))


def test_resume_with_nothing_paused(talk):
    talk.intent("AMAZON.ResumeIntent")
    assert msg("nothing_to_resume") in talk.text and talk.open


def test_silence_after_the_question_remembers_the_position(talk):
    talk.intent("GroundingIntent")
    position = talk.session["routine"]
    talk.end("EXCEEDED_MAX_REPROMPTS")
    talk.intent("AMAZON.ResumeIntent", new_session=True)
    assert talk.session["routine"] == position


def test_next_repeat_and_start_over(talk):
    talk.intent("BreathingIntent", {"technique": ("box", "BOX"), "minutes": "10"})
    talk.intent("AMAZON.RepeatIntent")
    assert talk.session["routine"]["done"] == 0
    assert C.techniques["BOX"].intro.text not in talk.text
    talk.intent("AMAZON.NextIntent")
    done = talk.session["routine"]["done"]
    assert done > 0
    talk.intent("AMAZON.StartOverIntent")
    assert talk.text.startswith(msg("start_over"))
    assert talk.session["routine"]["done"] == 0


def test_controls_with_nothing_running(talk):
    talk.intent("AMAZON.NextIntent")
    assert msg("next_not_in_exercise") in talk.text and talk.open
    talk.intent("AMAZON.StartOverIntent")
    assert talk.open
    talk.intent("AMAZON.PauseIntent")
    assert not talk.open


def test_repeat_outside_a_practice_repeats_the_last_question(talk):
    talk.launch()
    first = talk.ssml
    talk.intent("AMAZON.RepeatIntent")
    assert talk.ssml == first and talk.open


def test_help_in_and_out_of_a_practice(talk):
    talk.intent("AMAZON.HelpIntent")
    assert msg("help") in talk.text and talk.open
    assert "professional" in msg("help")
    talk.intent("GroundingIntent")
    talk.intent("AMAZON.HelpIntent")
    assert talk.text == msg("help_in_exercise")
    assert talk.session["routine"]["routine"] == "grounding"
    talk.intent("AMAZON.YesIntent")
    assert talk.session.get("routine", {}).get("chunk", 1) == 1 or not talk.open


def test_fallback_in_and_out_of_a_practice(talk):
    talk.intent("AMAZON.FallbackIntent")
    assert msg("fallback") in talk.text and talk.open
    talk.intent("GroundingIntent")
    state = talk.session.get("routine")
    talk.intent("AMAZON.FallbackIntent")
    assert talk.text == msg("fallback_in_exercise")
    assert talk.session.get("routine") == state


def test_stop_and_cancel_close_kindly(talk):
    talk.launch()
    talk.intent("AMAZON.CancelIntent")
    assert talk.text == msg("goodbye") and not talk.open
    talk.intent("GroundingIntent", new_session=True)
    talk.intent("AMAZON.StopIntent")
    assert talk.text == msg("stopped") and not talk.open


def test_yes_and_no_answer_the_question_asked(talk):
    talk.launch()
    talk.intent("AMAZON.YesIntent")
    assert C.techniques[C.default_technique].intro.text in talk.text
    talk.intent("GroundingIntent", new_session=True)
    talk.intent("AMAZON.NoIntent")
    assert talk.text == msg("stopped") and not talk.open
    talk.launch()
    talk.intent("AMAZON.NoIntent")
    assert talk.text == msg("goodbye")


def test_navigate_home_offers_the_menu(talk):
    talk.intent("GroundingIntent")
    talk.intent("AMAZON.NavigateHomeIntent")
    assert msg("menu_question") in talk.text and "routine" not in talk.session


# --- guided practices -----------------------------------------------------------------

@pytest.mark.parametrize("intent, practice", [
    ("GroundingIntent", C.grounding), ("SelfCompassionIntent", C.self_compassion),
])
def test_guided_practice_runs_hands_free_to_the_end(talk, intent, practice):
    talk.intent(intent)
    assert talk.text.startswith(practice.intro.text)
    texts = run_to_end(talk)
    whole = " ".join(texts)
    for step in practice.steps:
        for item in step.items:
            if item.say:
                assert item.say.text in whole
    assert practice.outro.text in texts[-1]
    for text in texts[:-1]:
        assert text.endswith(practice.keep_going.text)
        assert sum(pauses(text)) < 240
    assert "routine" not in talk.session


def test_grounding_has_unhurried_pauses(talk):
    talk.intent("GroundingIntent")
    assert max(pauses(talk.text)) >= 5


# --- reflection -----------------------------------------------------------------------

def test_reflection_is_spoken_never_listened_to(talk):
    talk.intent("ReflectionIntent")
    assert talk.text.startswith(C.reflection.intro.text)
    assert C.reflection.outro.text in talk.text
    assert sum(pauses(talk.text)) >= C.reflection.silence_seconds
    assert not talk.open and "reprompt" not in talk.last["response"]


def test_reflection_prompts_do_not_repeat_until_all_heard(talk):
    prompts = {p.text.text: p.id for p in C.reflection.prompts}
    heard = []
    for _ in range(len(prompts) + 1):
        talk.intent("ReflectionIntent", new_session=True)
        heard.append(next(pid for text, pid in prompts.items() if text in talk.text))
    assert sorted(heard[:-1]) == sorted(prompts.values())
    assert heard[-1] in prompts.values()


# --- safety ---------------------------------------------------------------------------

def test_crisis_stops_the_practice_and_gives_resources(talk):
    talk.intent("BreathingIntent", {"technique": ("box", "BOX"), "minutes": "10"})
    talk.intent("CrisisIntent")
    assert talk.text == C.crisis.message.text
    assert "nine eight eight" in talk.text and "nine one one" in talk.text
    assert not talk.open and "routine" not in talk.session
    assert "988" in talk.last["response"]["card"]["content"]


def test_crisis_wins_even_outside_a_session(talk):
    talk.intent("CrisisIntent", new_session=True)
    assert talk.text == C.crisis.message.text


# --- requests that must not speak ----------------------------------------------------

def test_session_ended_with_error_is_quiet(talk):
    talk.launch()
    talk.send(talk.c.session_ended("ERROR", {"type": "INVALID_RESPONSE", "message": "bad"}))
    assert "outputSpeech" not in talk.last["response"]


def test_exception_encountered_and_unknown_requests_are_quiet(talk):
    env = talk.c.envelope({
        "type": "System.ExceptionEncountered",
        "error": {"type": "INVALID_RESPONSE", "message": "x"},
        "cause": {"requestId": "amzn1.echo-api.request.1"},
    }, with_session=False)
    talk.send(env)
    assert "outputSpeech" not in talk.last["response"]
    env = talk.c.envelope({"type": "AudioPlayer.PlaybackStarted", "token": "t",
                           "offsetInMilliseconds": 0}, with_session=False)
    talk.send(env)
    assert "outputSpeech" not in talk.last["response"]


def test_catch_all_speaks_calmly_when_a_handler_breaks(talk):
    """A corrupt session (a routine state missing fields) makes the routine raise."""
    talk.launch()
    talk.c.attributes = {"routine": {"routine": "breathing", "technique": "BOX"},
                         "question": "keep_going"}
    talk.intent("AMAZON.NextIntent")
    assert talk.text == msg("error") and not talk.open


# --- degradation and privacy ----------------------------------------------------------

@pytest.fixture
def broken_db_app(tmp_path):
    from skill.app import create_app
    from skill.envelopes import DEV_SKILL_ID

    return create_app({
        "DEV": True,
        "ALEXA_SKILL_ID": DEV_SKILL_ID,
        "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
        "INSTANCE_PATH": str(tmp_path),
    })


def test_a_broken_database_degrades_to_no_history(broken_db_app):
    from skill.envelopes import DEV_SKILL_ID, Conversation
    from tests.conftest import Talk

    talk = Talk(broken_db_app.test_client(), Conversation(skill_id=DEV_SKILL_ID))
    talk.launch()
    assert talk.text.startswith(msg("no_history")) and talk.open
    talk.intent("BreathingIntent", {"technique": ("box", "BOX"), "minutes": "2"})
    assert C.techniques["BOX"].intro.text in talk.text
    assert msg("no_history") not in talk.text  # told once per session
    run_to_end(talk)
    assert C.techniques["BOX"].outro.text in talk.text
    talk.intent("CrisisIntent", new_session=True)
    assert talk.text == C.crisis.message.text


def test_logs_never_hold_user_or_device_ids(talk, caplog):
    caplog.set_level(logging.DEBUG)
    talk.launch()
    talk.intent("BreathingIntent", {"technique": ("box", "BOX")})
    talk.intent("AMAZON.PauseIntent")
    talk.intent("AMAZON.ResumeIntent", new_session=True)
    talk.end()
    assert caplog.records
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert talk.c.user_id not in logged
    assert talk.c.device_id not in logged
    assert "dev-token" not in logged
