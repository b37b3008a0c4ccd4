"""Noticing patterns, reminders, privacy and safety (issue 4), through POST /alexa.

Feedback and history are checked in the database itself, reminders against the fake
Alexa API (a real HTTPS server on 127.0.0.1) that checks method, path, token and body.
"""

from __future__ import annotations

import json
import logging
import re

import pytest
import sqlalchemy as sa
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope

from skill.content import load_content, load_crisis_lines
from skill.store import user_state
from tests.fake_alexa_api import TOKEN

C = load_content("en-US")
REMINDERS = "alexa::alerts:reminders:skill:readwrite"


def msg(name: str, **values) -> str:
    text = C.message(name).text.format(**values)
    return re.sub(r"(?:^|(?<=[.?!]\s))[a-z]", lambda m: m.group(0).upper(), text)


def record(app, talk) -> dict:
    """The person's stored record, read through the store as the skill reads it."""
    envelope = talk.c.envelope({"type": "LaunchRequest"}, with_session=False)
    parsed = DefaultSerializer().deserialize(json.dumps(envelope), RequestEnvelope)
    return app.extensions["breathing_room"].store.get_attributes(parsed)


def rows(app) -> list:
    store = app.extensions["breathing_room"].store
    with store.engine.connect() as connection:
        return list(connection.execute(sa.select(user_state)))


def finish_grounding(talk) -> None:
    talk.intent("GroundingIntent", new_session=True)
    while talk.session.get("question") == "keep_going":
        talk.intent("AMAZON.NextIntent")


def finish_breathing(talk, technique="BOX") -> None:
    talk.intent("BreathingIntent", {"technique": ("x", technique), "minutes": "1"},
                new_session=True)
    while talk.session.get("question") == "keep_going":
        talk.intent("AMAZON.NextIntent")


# --- feedback -------------------------------------------------------------------------

def test_feedback_is_asked_after_a_practice_ends_and_stored_minimally(app, talk, alexa_api):
    finish_breathing(talk, "BOX")
    assert talk.text.endswith(msg("feedback_question")) and talk.open
    talk.intent("FeedbackIntent", {"helpfulness": ("a lot", "A_LOT")})
    assert talk.text.startswith(msg("feedback_thanks"))
    entries = record(app, talk)["history"]
    assert len(entries) == 1
    entry = entries[0]
    assert set(entry) == {"exercise", "technique", "helpfulness", "date", "hour"}
    assert (entry["exercise"], entry["technique"], entry["helpfulness"]) == (
        "breathing", "BOX", "A_LOT")
    assert 0 <= entry["hour"] < 24
    # The hour is the device's own: the time zone was read from the Settings API.
    assert any("/settings/System.timeZone" in call[1] for call in alexa_api.calls)


def test_feedback_is_not_asked_when_stopped_early(talk):
    talk.intent("BreathingIntent", {"technique": ("box", "BOX"), "minutes": "10"})
    talk.intent("AMAZON.StopIntent")
    assert msg("feedback_question") not in talk.text and not talk.open


def test_feedback_is_asked_once_per_session(talk):
    finish_grounding(talk)
    talk.intent("FeedbackIntent", {"helpfulness": ("not really", "NOT_REALLY")})
    assert talk.text == msg("feedback_thanks_not_really") and not talk.open
    # Same session continued? A new practice in the same session must not ask again.
    talk.intent("GroundingIntent", new_session=True)
    talk.c.attributes["feedback_asked"] = True
    while talk.session.get("question") == "keep_going":
        talk.intent("AMAZON.NextIntent")
    assert msg("feedback_question") not in talk.text


def test_an_ignored_question_is_not_asked_next_time_but_after(talk):
    finish_grounding(talk)
    assert talk.text.endswith(msg("feedback_question"))
    talk.end("EXCEEDED_MAX_REPROMPTS")  # silence: the question was ignored
    finish_grounding(talk)
    assert msg("feedback_question") not in talk.text and not talk.open
    finish_grounding(talk)
    assert talk.text.endswith(msg("feedback_question"))


def test_stop_at_the_question_simply_ends_kindly(talk):
    finish_grounding(talk)
    talk.intent("AMAZON.StopIntent")
    assert talk.text == msg("goodbye") and not talk.open


def test_an_unclear_answer_gets_asked_again(talk):
    finish_grounding(talk)
    talk.intent("FeedbackIntent", {"helpfulness": "purple"})
    assert talk.text == msg("feedback_unclear") and talk.open


# --- patterns -------------------------------------------------------------------------

def give_feedback(talk, practice: str, helpfulness: str) -> None:
    if practice == "grounding":
        finish_grounding(talk)
    else:
        finish_breathing(talk, practice)
    talk.intent("FeedbackIntent", {"helpfulness": (helpfulness.lower(), helpfulness)})
    if talk.open:  # a bridge offer: decline it
        talk.intent("AMAZON.NoIntent")


def test_patterns_with_no_history(talk):
    talk.intent("PatternsIntent")
    assert talk.text.startswith(msg("patterns_none")) and talk.open


def test_patterns_with_too_few_sessions(talk):
    give_feedback(talk, "BOX", "A_LOT")
    talk.intent("PatternsIntent", new_session=True)
    assert talk.text.startswith(msg("patterns_too_few"))


def test_patterns_with_many_sessions_and_the_welcome_offer(talk):
    for practice, helped in [("BOX", "A_LOT"), ("grounding", "NOT_REALLY"),
                             ("RESONANCE", "A_LITTLE"), ("BOX", "A_LOT"),
                             ("grounding", "A_LITTLE")]:
        give_feedback(talk, practice, helped)
    talk.intent("PatternsIntent", new_session=True)
    box = C.techniques["BOX"].name
    assert talk.text.startswith(msg("patterns_best", exercise=box, helped=2, times=2))
    assert talk.text.endswith(msg("patterns_offer", exercise=box))
    talk.intent("AMAZON.YesIntent")
    assert C.techniques["BOX"].intro.text in talk.text
    talk.launch()
    assert talk.text == msg("welcome_offer", exercise=box)
    talk.intent("AMAZON.NoIntent")
    assert talk.text == msg("menu_question") and talk.open


# --- the bridge -----------------------------------------------------------------------

def test_bridge_is_offered_after_a_coping_practice_helped(talk):
    finish_breathing(talk, "BOX")
    talk.intent("FeedbackIntent", {"helpfulness": ("a little", "A_LITTLE")})
    asked = talk.session["question"]
    assert asked == "bridge" and talk.open
    offered = talk.session["bridge"]
    assert talk.text.endswith(msg(f"bridge_{offered}"))
    talk.intent("AMAZON.YesIntent")
    if offered == "self_compassion":
        assert talk.text.startswith(C.self_compassion.intro.text)
    else:
        assert talk.text.startswith(C.reflection.intro.text)


def test_bridge_declined_closes_warmly_and_is_never_pushed_twice(talk):
    finish_breathing(talk, "BOX")
    talk.intent("FeedbackIntent", {"helpfulness": ("a lot", "A_LOT")})
    talk.intent("AMAZON.NoIntent")
    assert talk.text == msg("bridge_declined") and not talk.open


def test_no_bridge_when_it_did_not_help(talk):
    finish_breathing(talk, "BOX")
    talk.intent("FeedbackIntent", {"helpfulness": ("not really", "NOT_REALLY")})
    assert "bridge" not in talk.session and not talk.open


def test_no_bridge_twice_in_a_session(talk):
    finish_breathing(talk, "BOX")
    talk.c.attributes["bridge_offered"] = True
    talk.intent("FeedbackIntent", {"helpfulness": ("a lot", "A_LOT")})
    assert not talk.open and msg("goodbye") in talk.text


def test_no_feedback_and_no_bridge_after_a_crisis(talk):
    talk.intent("CrisisIntent")
    assert talk.session.get("crisis") is True
    # Even if the session went on (it does not: the crisis answer ends it), nothing is
    # asked after a crisis.
    talk.c.ended = False
    talk.c.attributes = talk.session
    talk.intent("GroundingIntent")
    while talk.session.get("question") == "keep_going":
        talk.intent("AMAZON.NextIntent")
    assert msg("feedback_question") not in talk.text


# --- reminders ------------------------------------------------------------------------

def test_reminder_without_permission_asks_by_voice_then_creates(app, talk, alexa_api):
    talk.intent("ReminderIntent", {"time": "21:00"})
    directive = talk.last["response"]["directives"][0]
    assert directive["type"] == "Connections.SendRequest" and directive["name"] == "AskFor"
    scope = directive["payload"]["permissionScopes"][0]["permissionScope"]
    assert scope == REMINDERS
    assert alexa_api.reminder_calls() == []
    talk.c.granted.add(REMINDERS)
    talk.send(talk.c.permission_answer("ACCEPTED"))
    assert talk.text == msg("reminder_set", time="9 PM")
    (method, path, body, auth), = alexa_api.reminder_calls()
    assert (method, path, auth) == ("POST", "/v1/alerts/reminders", f"Bearer {TOKEN}")
    trigger = body["trigger"]
    assert trigger["recurrence"]["recurrenceRules"] == [
        "FREQ=DAILY;BYHOUR=21;BYMINUTE=0;BYSECOND=0;INTERVAL=1"]
    assert trigger["timeZoneId"] == alexa_api.time_zone
    assert body["alertInfo"]["spokenInfo"]["content"][0]["text"] == C.reminder.text.text
    assert record(app, talk)["reminder"] == {"token": "alert-1", "time": "21:00"}


@pytest.mark.parametrize("status", ["DENIED", "NOT_ANSWERED"])
def test_reminder_permission_refused_gets_a_card(app, talk, alexa_api, status):
    talk.intent("ReminderIntent", {"time": "21:00"})
    talk.send(talk.c.permission_answer(status))
    assert talk.text == msg("reminder_permission")
    card = talk.last["response"]["card"]
    assert card["type"] == "AskForPermissionsConsent" and card["permissions"] == [REMINDERS]
    assert alexa_api.reminder_calls() == []
    assert "reminder" not in record(app, talk)


def test_reminder_asks_for_a_time_when_none_given(talk):
    talk.c.granted.add(REMINDERS)
    talk.intent("ReminderIntent")
    assert talk.text == msg("reminder_time_question") and talk.open


def test_asking_again_moves_the_reminder_never_duplicates(app, talk, alexa_api):
    talk.c.granted.add(REMINDERS)
    talk.intent("ReminderIntent", {"time": "21:00"})
    talk.intent("ReminderIntent", {"time": "22:30"}, new_session=True)
    assert talk.text == msg("reminder_set", time="10:30 PM")
    assert len(alexa_api.reminders) == 1
    methods = [c[0] for c in alexa_api.reminder_calls()]
    assert methods == ["POST", "PUT"]
    assert record(app, talk)["reminder"]["time"] == "22:30"


def test_a_reminder_deleted_in_the_app_is_created_again(app, talk, alexa_api):
    talk.c.granted.add(REMINDERS)
    talk.intent("ReminderIntent", {"time": "21:00"})
    alexa_api.reminders.clear()  # the person deleted it in the Alexa app
    talk.intent("ReminderIntent", {"time": "21:00"}, new_session=True)
    assert [c[0] for c in alexa_api.reminder_calls()] == ["POST", "PUT", "POST"]
    assert len(alexa_api.reminders) == 1


def test_cancel_reminder(app, talk, alexa_api):
    talk.c.granted.add(REMINDERS)
    talk.intent("CancelReminderIntent")
    assert talk.text == msg("reminder_none")
    talk.intent("ReminderIntent", {"time": "21:00"}, new_session=True)
    talk.intent("CancelReminderIntent", new_session=True)
    assert talk.text == msg("reminder_cancelled")
    assert alexa_api.reminders == {} and "reminder" not in record(app, talk)


@pytest.mark.parametrize("status, message", [
    (401, "reminder_permission"), (403, "reminder_permission"), (429, "reminder_busy"),
    (500, "reminder_failed"), (503, "reminder_failed"),
])
def test_reminder_api_failures_are_explained_and_nothing_is_saved(app, talk, alexa_api,
                                                                  status, message):
    talk.c.granted.add(REMINDERS)
    talk.intent("ReminderIntent", {"time": "21:00"})
    alexa_api.fail_next(status)
    talk.intent("ReminderIntent", {"time": "23:00"}, new_session=True)
    assert talk.text == msg(message)
    # The first reminder is untouched and still the one remembered.
    assert record(app, talk)["reminder"] == {"token": "alert-1", "time": "21:00"}
    assert alexa_api.reminders["alert-1"]["trigger"]["recurrence"]["recurrenceRules"][0] \
        .startswith("FREQ=DAILY;BYHOUR=21;")


def test_an_unreadable_time_zone_falls_back_to_the_default(talk, alexa_api):
    talk.c.granted.add(REMINDERS)
    alexa_api.fail_next(500, "/v2/devices/")
    talk.intent("ReminderIntent", {"time": "21:00"})
    assert talk.text == msg("reminder_set", time="9 PM")
    (_, _, body, _), = alexa_api.reminder_calls()
    assert body["trigger"]["timeZoneId"] == C.reminder.default_time_zone


def test_an_unreachable_api_is_a_calm_failure(app, talk, alexa_api):
    talk.c.granted.add(REMINDERS)
    talk.c.api_endpoint = "https://127.0.0.1:1"  # nothing listens there
    talk.intent("ReminderIntent", {"time": "21:00"})
    assert talk.text == msg("reminder_failed")
    assert "reminder" not in record(app, talk)


# --- privacy --------------------------------------------------------------------------

def test_forget_me_asks_then_deletes_everything(app, talk, alexa_api):
    talk.c.granted.add(REMINDERS)
    give_feedback(talk, "BOX", "A_LOT")
    talk.intent("ReminderIntent", {"time": "21:00"}, new_session=True)
    talk.intent("ForgetMeIntent", new_session=True)
    assert talk.text == msg("forget_confirm") and talk.open
    talk.intent("AMAZON.NoIntent")
    assert talk.text == msg("forget_kept") and len(rows(app)) == 1
    talk.intent("ForgetMeIntent", new_session=True)
    talk.intent("AMAZON.YesIntent")
    assert talk.text == msg("forget_done")
    assert rows(app) == [] and alexa_api.reminders == {}


def test_skill_disabled_deletes_the_record(app, talk):
    give_feedback(talk, "BOX", "A_LOT")
    assert len(rows(app)) == 1
    talk.send(talk.c.skill_event("SkillDisabled",
                                 {"userInformationPersistenceStatus": "NOT_PERSISTED"}))
    assert rows(app) == []


def test_revoked_reminder_permission_forgets_the_token(app, talk):
    talk.c.granted.add(REMINDERS)
    talk.intent("ReminderIntent", {"time": "21:00"})
    talk.send(talk.c.skill_event("SkillPermissionChanged", {"acceptedPermissions": []}))
    assert "reminder" not in record(app, talk)
    talk.send(talk.c.skill_event("SkillPermissionAccepted",
                                 {"acceptedPermissions": [{"scope": REMINDERS}]}))
    assert "outputSpeech" not in talk.last["response"]


def test_the_raw_user_id_is_never_stored_or_logged(app, talk, caplog):
    caplog.set_level(logging.DEBUG)
    talk.c.granted.add(REMINDERS)
    give_feedback(talk, "BOX", "A_LOT")
    talk.intent("ReminderIntent", {"time": "21:00"}, new_session=True)
    talk.intent("PatternsIntent", new_session=True)
    stored = json.dumps([list(map(str, row)) for row in rows(app)])
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (talk.c.user_id, talk.c.device_id, TOKEN):
        assert secret not in stored
        assert secret not in logged


# --- safety ---------------------------------------------------------------------------

@pytest.mark.parametrize("locale, number", [
    ("en-US", "nine eight eight"), ("en-CA", "nine eight eight"),
    ("en-GB", "one one six, one two three"), ("en-IE", "one one six, one two three"),
    ("en-AU", "thirteen eleven fourteen"), ("en-IN", "one four four one six"),
    ("en-NZ", "one seven three seven"), ("fr-FR", "local emergency number"),
])
def test_crisis_gives_the_line_of_the_persons_own_locale(talk, locale, number):
    talk.c.locale = locale
    talk.intent("CrisisIntent")
    lines = load_crisis_lines()
    expected = C.crisis if locale == "en-US" else lines.get(locale, lines["default"])
    assert talk.text == expected.message.text
    assert number in talk.text
    assert talk.last["response"]["card"]["content"] == expected.card_text
    assert not talk.open and msg("feedback_question") not in talk.text


def test_every_crisis_line_names_its_source_and_check_date():
    for locale, line in load_crisis_lines().items():
        assert line.source.startswith("https://"), locale
        assert len(line.checked) == 10, locale


def test_holds_can_be_turned_off(talk):
    hold = C.techniques["BOX"].phases[1].cue.text
    talk.intent("NoHoldsIntent", {"technique": ("box", "BOX"), "minutes": "2"})
    assert talk.text.startswith(msg("holds_off"))
    assert hold not in talk.text
    assert C.techniques["BOX"].caution.text not in talk.text


def test_dizziness_turns_holds_off_for_the_rest_of_the_session(talk):
    hold = C.techniques["FOUR_SEVEN_EIGHT"].phases[1].cue.text
    talk.intent("BreathingIntent", {"technique": ("box", "BOX"), "minutes": "10"})
    assert hold in talk.text
    talk.intent("DizzyIntent")
    assert talk.text.startswith(msg("dizzy")) and talk.open
    assert talk.session["routine"]["holds"] is False
    talk.intent("AMAZON.YesIntent")
    assert hold not in talk.text
    talk.intent("BreathingIntent", {"technique": ("478", "FOUR_SEVEN_EIGHT")})
    assert hold not in talk.text


def test_without_holding_mid_practice_carries_on_without_them(talk):
    hold = C.techniques["BOX"].phases[1].cue.text
    talk.intent("BreathingIntent", {"technique": ("box", "BOX"), "minutes": "10"})
    talk.intent("NoHoldsIntent")
    assert talk.text.startswith(msg("holds_off")) and hold not in talk.text
    assert talk.session["routine"]["holds"] is False
