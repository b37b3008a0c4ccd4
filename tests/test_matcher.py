"""The terminal chat's utterance matcher: typed text -> intent and slots, like Alexa would."""

from __future__ import annotations

import dataclasses
import re

import pytest

from skill import interaction_model as im
from skill.matcher import (
    CRISIS_INTENT,
    FALLBACK_INTENT,
    Match,
    Matcher,
    SlotValue,
    normalize,
    number_to_words,
    parse_time,
    words_to_number,
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher.for_locale("en-US")


@pytest.fixture(scope="module")
def language_model() -> dict:
    return im.build_interaction_model("en-US")["interactionModel"]["languageModel"]


LAUNCH = ("launch", None, {})
END = ("end", None, {})


def intent(name: str, **slots: tuple[str, str | None]) -> tuple:
    return ("intent", name, slots)


CASES = [
    # launch forms
    ("open breathing room", LAUNCH),
    ("Alexa, open Breathing Room.", LAUNCH),
    ("launch breathing room", LAUNCH),
    ("start breathing room", LAUNCH),
    ("breathing room", LAUNCH),
    ("ask breathing room", LAUNCH),
    ("ask breathing room to", LAUNCH),
    # one-shot forms
    ("ask breathing room to ground me", intent("GroundingIntent")),
    ("Alexa, ask breathing room for a breathing exercise", intent("BreathingIntent")),
    ("tell breathing room i'm panicking", intent("GroundingIntent")),
    (
        "ask breathing room for box breathing for 5 minutes",
        intent("BreathingIntent", technique=("box breathing", "BOX"), minutes=("5", None)),
    ),
    ("open breathing room and give me something to reflect on", intent("ReflectionIntent")),
    ("start a breathing exercise with breathing room", intent("BreathingIntent")),
    ("ask breathing room what helps me", intent("PatternsIntent")),
    # techniques by name and synonym, with ids
    ("square breathing", intent("BreathingIntent", technique=("square breathing", "BOX"))),
    ("four by four", intent("BreathingIntent", technique=("four by four", "BOX"))),
    (
        "do 4-7-8 breathing",
        intent("BreathingIntent", technique=("four seven eight breathing", "FOUR_SEVEN_EIGHT")),
    ),
    (
        "let's try coherent breathing",
        intent("BreathingIntent", technique=("coherent breathing", "RESONANCE")),
    ),
    (
        "six breaths a minute",
        intent("BreathingIntent", technique=("six breaths a minute", "RESONANCE")),
    ),
    (
        "the physiological sigh",
        intent("BreathingIntent", technique=("the physiological sigh", "CYCLIC_SIGH")),
    ),
    (
        "Double inhale, please",
        intent("BreathingIntent", technique=("double inhale", "CYCLIC_SIGH")),
    ),
    (
        "calming breath",
        intent("BreathingIntent", technique=("calming breath", "EXTENDED_EXHALE")),
    ),
    # minutes as digits and words
    (
        "box breathing for 3 minutes",
        intent("BreathingIntent", technique=("box breathing", "BOX"), minutes=("3", None)),
    ),
    (
        "box breathing for three minutes",
        intent("BreathingIntent", technique=("box breathing", "BOX"), minutes=("3", None)),
    ),
    (
        "long exhale for ten minutes",
        intent(
            "BreathingIntent", technique=("long exhale", "EXTENDED_EXHALE"), minutes=("10", None)
        ),
    ),
    ("breathe for twenty one minutes", intent("BreathingIntent", minutes=("21", None))),
    (
        "5 minutes of resonance breathing",
        intent(
            "BreathingIntent", technique=("resonance breathing", "RESONANCE"), minutes=("5", None)
        ),
    ),
    (
        "i'd like to do coherent breathing for 10 minutes",
        intent(
            "BreathingIntent", technique=("coherent breathing", "RESONANCE"), minutes=("10", None)
        ),
    ),
    ("breathe with me for 1 minute", intent("BreathingIntent", minutes=("1", None))),
    (
        "one hundred and five minutes of box breathing",
        intent("BreathingIntent", technique=("box breathing", "BOX"), minutes=("105", None)),
    ),
    (
        "box breathing for four five minutes",
        intent("BreathingIntent", technique=("box breathing", "BOX")),
    ),
    ("Help me breathe", intent("BreathingIntent")),
    ("I need to calm down!!", intent("BreathingIntent")),
    # pace
    ("slower", intent("PaceIntent", pace=("slower", "SLOWER"))),
    ("slow down", intent("PaceIntent", pace=("slow down", "SLOWER"))),
    ("a bit faster", intent("PaceIntent", pace=("faster", "FASTER"))),
    ("can you go more slowly please", intent("PaceIntent", pace=("more slowly", "SLOWER"))),
    ("speed up", intent("PaceIntent", pace=("speed up", "FASTER"))),
    ("that's too fast", intent("PaceIntent", pace=("too fast", "SLOWER"))),
    ("quicker", intent("PaceIntent", pace=("quicker", "FASTER"))),
    # crisis, also inside longer sentences; panic is grounding
    ("i feel like i want to die honestly", intent(CRISIS_INTENT)),
    ("I want to kill myself.", intent(CRISIS_INTENT)),
    ("sometimes i think everyone would be better off without me", intent(CRISIS_INTENT)),
    ("im not ok", intent(CRISIS_INTENT)),
    ("i'm really not okay right now", intent(CRISIS_INTENT)),
    ("please, I need help right now", intent(CRISIS_INTENT)),
    ("i'm panicking and i can't go on", intent(CRISIS_INTENT)),
    ("i'm gonna hurt myself", intent(CRISIS_INTENT)),
    ("open breathing room i don't want to be here anymore", intent(CRISIS_INTENT)),
    ("ask breathing room to ground me because i'm not safe", intent(CRISIS_INTENT)),
    ("i'm panicking", intent("GroundingIntent")),
    ("I'm having a panic attack!", intent("GroundingIntent")),
    ("5 4 3 2 1", intent("GroundingIntent")),
    ("5-4-3-2-1", intent("GroundingIntent")),
    # self-compassion and reflection
    ("i'm being so hard on myself today", intent("SelfCompassionIntent")),
    ("a self-compassion break", intent("SelfCompassionIntent")),
    ("tonight's reflection", intent("ReflectionIntent")),
    ("Give me something to reflect on.", intent("ReflectionIntent")),
    # feedback
    ("it helped a lot", intent("FeedbackIntent", helpfulness=("a lot", "A_LOT"))),
    ("a little", intent("FeedbackIntent", helpfulness=("a little", "A_LITTLE"))),
    ("Not really.", intent("FeedbackIntent", helpfulness=("not really", "NOT_REALLY"))),
    ("i feel much better", intent("FeedbackIntent", helpfulness=("much better", "A_LOT"))),
    ("honestly a lot", intent("FeedbackIntent", helpfulness=("a lot", "A_LOT"))),
    # reminders and data
    ("remind me every night at 9", intent("ReminderIntent", time=("21:00", None))),
    ("remind me every night at nine", intent("ReminderIntent", time=("21:00", None))),
    ("remind me at nine thirty p.m.", intent("ReminderIntent", time=("21:30", None))),
    ("set a reminder for 21:00", intent("ReminderIntent", time=("21:00", None))),
    ("remind me at 7 am", intent("ReminderIntent", time=("07:00", None))),
    ("remind me at 9pm", intent("ReminderIntent", time=("21:00", None))),
    ("stop reminding me", intent("CancelReminderIntent")),
    ("cancel my reminder", intent("CancelReminderIntent")),
    ("please delete my history", intent("ForgetMeIntent")),
    ("forget me", intent("ForgetMeIntent")),
    ("which exercises work for me?", intent("PatternsIntent")),
    # built-ins, from the chat vocabulary and the extra samples
    ("stop", intent("AMAZON.StopIntent")),
    ("stop the exercise", intent("AMAZON.StopIntent")),
    ("Pause.", intent("AMAZON.PauseIntent")),
    ("keep going", intent("AMAZON.ResumeIntent")),
    ("pick up where i left off", intent("AMAZON.ResumeIntent")),
    ("next", intent("AMAZON.NextIntent")),
    ("say that again", intent("AMAZON.RepeatIntent")),
    ("start over", intent("AMAZON.StartOverIntent")),
    ("Yes please", intent("AMAZON.YesIntent")),
    ("no thanks", intent("AMAZON.NoIntent")),
    ("help", intent("AMAZON.HelpIntent")),
    ("what can you do", intent("AMAZON.HelpIntent")),
    ("never mind", intent("AMAZON.CancelIntent")),
    ("main menu", intent("AMAZON.NavigateHomeIntent")),
    # tolerance: fillers, case, punctuation, curly apostrophes
    ("Um, uh... GROUND ME please", intent("GroundingIntent")),
    ("I\u2019m freaking out", intent("GroundingIntent")),
    (
        "i'd really love some square breathing",
        intent("BreathingIntent", technique=("square breathing", "BOX")),
    ),
    # nothing to do with the skill
    ("blorp zzz quux", intent(FALLBACK_INTENT)),
    ("what's the weather like in paris", intent(FALLBACK_INTENT)),
    ("i want to stop feeling this way", intent(FALLBACK_INTENT)),
    ("um", intent(FALLBACK_INTENT)),
    # empty input ends the chat
    ("", END),
    ("   ...  ", END),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_matches(matcher, text, expected):
    kind, name, slots = expected
    result = matcher.match(text)
    assert (result.kind, result.intent) == (kind, name)
    assert {k: (v.value, v.id) for k, v in result.slots.items()} == slots
    assert all(v.name == k for k, v in result.slots.items())
    assert 0.0 <= result.score <= 1.0


def _fill(sample: str, slot_types: dict[str, str], language_model: dict) -> tuple[str, dict]:
    """A sample with each {slot} replaced by a value, and the slot values expected back."""
    expected = {}
    for name in re.findall(r"\{(\w+)\}", sample):
        slot_type = slot_types[name]
        if slot_type == "AMAZON.NUMBER":
            text, value = "five", ("5", None)
        elif slot_type == "AMAZON.TIME":
            text, value = "nine p. m.", ("21:00", None)
        else:
            entry = next(t for t in language_model["types"] if t["name"] == slot_type)["values"][0]
            text, value = entry["name"]["value"], (entry["name"]["value"], entry["id"])
        sample = sample.replace(f"{{{name}}}", text)
        expected[name] = value
    return sample, expected


def test_every_sample_and_chat_phrase_resolves_to_its_own_intent(matcher, language_model):
    """No sample is shadowed by another intent (in particular, none is mistaken for a crisis)."""
    wrong = []
    for entry in language_model["intents"]:
        slot_types = {s["name"]: s["type"] for s in entry.get("slots", [])}
        for sample in entry["samples"]:
            text, slots = _fill(sample, slot_types, language_model)
            result = matcher.match(text)
            got = {k: (v.value, v.id) for k, v in result.slots.items()}
            if (result.intent, got, result.score) != (entry["name"], slots, 1.0):
                wrong.append((sample, entry["name"], result))
    phrases = im.chat_phrases(im.load_model_source("en-US"))
    for name, values in phrases.items():
        for phrase in values:
            result = matcher.match(phrase)
            if result.intent != name:
                wrong.append((phrase, name, result))
    assert not wrong


def test_no_two_intents_share_a_normalised_utterance(matcher):
    assert matcher.conflicts == []


def test_matcher_knows_every_intent(matcher, language_model):
    assert set(matcher.intents) == {i["name"] for i in language_model["intents"]}


@pytest.mark.parametrize(
    ("before", "after"), [("", ""), ("honestly ", " tonight"), ("i feel like ", "")]
)
def test_every_crisis_sample_wins_inside_a_longer_sentence(matcher, language_model, before, after):
    crisis = next(i for i in language_model["intents"] if i["name"] == CRISIS_INTENT)
    for sample in crisis["samples"]:
        for text in (f"{before}{sample}{after}", f"ask breathing room {before}{sample}{after}"):
            assert matcher.match(text).intent == CRISIS_INTENT, text


@pytest.mark.parametrize("text", ["i'm not in crisis i'm panicking", "i'm not at all in crisis"])
def test_a_negation_between_the_words_breaks_a_crisis_phrase(matcher, text):
    assert matcher.match(text).intent != CRISIS_INTENT


# --- pure use without YAML -----------------------------------------------------------------------

TINY_MODEL = {
    "invocationName": "tea time",
    "intents": [
        {
            "name": "BrewIntent",
            "slots": [{"name": "tea", "type": "TEA"}, {"name": "cups", "type": "AMAZON.NUMBER"}],
            "samples": ["brew {tea}", "brew {cups} cups of {tea}", "make me a cuppa"],
        },
        {"name": "AMAZON.StopIntent", "samples": []},
    ],
    "types": [
        {
            "name": "TEA",
            "values": [
                {"id": "GREEN", "name": {"value": "green tea", "synonyms": ["sencha"]}},
                {"id": "BLACK", "name": {"value": "black tea", "synonyms": []}},
            ],
        }
    ],
}


def test_from_model_without_yaml():
    tiny = Matcher.from_model(TINY_MODEL, {"AMAZON.StopIntent": ["stop"]})
    assert tiny.match("open tea time").kind == "launch"
    result = tiny.match("ask tea time to brew 2 cups of sencha")
    assert result == Match(
        "intent",
        "BrewIntent",
        {"cups": SlotValue("cups", "2"), "tea": SlotValue("tea", "sencha", "GREEN")},
        1.0,
    )
    assert tiny.match("stop").intent == "AMAZON.StopIntent"
    assert tiny.match("launch the rockets").intent == FALLBACK_INTENT
    assert Matcher.from_model(TINY_MODEL).match("stop").intent == FALLBACK_INTENT
    assert FALLBACK_INTENT in Matcher.from_model(TINY_MODEL).intents


def test_conflicts_and_other_slot_types_are_reported():
    model = {
        "invocationName": "tea time",
        "intents": [
            {"name": "AIntent", "samples": ["hello there"]},
            {
                "name": "BIntent",
                "slots": [{"name": "city", "type": "AMAZON.City"}],
                "samples": ["hello there please", "fly to {city}"],
            },
        ],
        "types": [],
    }
    tiny = Matcher.from_model(model)
    assert tiny.conflicts == [("hello there please", "BIntent", "AIntent")]
    result = tiny.match("fly to new york")
    assert result.intent == "BIntent"
    assert result.slots == {"city": SlotValue("city", "new york")}


def test_results_are_frozen():
    result = Match("intent", "X", {}, 1.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.intent = "Y"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        SlotValue("a", "b").value = "c"  # type: ignore[misc]


# --- the pieces ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("I'm OK.", ["i'm", "ok"]),
        ("Im okay", ["i'm", "ok"]),
        ("I am okay", ["i'm", "ok"]),
        ("4-7-8", ["four", "seven", "eight"]),
        ("Could you, um, do 21 minutes?", ["do", "twenty", "one", "minutes"]),
        ("nine thirty P.M.", ["nine", "thirty", "pm"]),
        ("9pm", ["nine", "pm"]),
        ("at 21:00", ["at", "21:00"]),
        ("i\u2019m gonna", ["i'm", "going", "to"]),
        ("thanks", ["thanks"]),
        ("yes thank you", ["yes"]),
    ],
)
def test_normalize(text, tokens):
    assert normalize(text) == tokens


def test_numbers_round_trip():
    for n in [*range(0, 1201), 9999, 21000, 123456]:
        assert words_to_number(number_to_words(n).split()) == n, n
    assert words_to_number("one hundred and five".split()) == 105
    assert number_to_words(1234567) == "one two three four five six seven"


@pytest.mark.parametrize(
    "words",
    [
        "five four",
        "twenty thirty",
        "hundred",
        "five hundred hundred",
        "fifteen five",
        "thousand",
        "five thousand six thousand",
        "",
        "lots",
    ],
)
def test_malformed_numbers(words):
    assert words_to_number(words.split()) is None


@pytest.mark.parametrize(
    ("phrase", "context", "value"),
    [
        ("nine", "", "09:00"),
        ("nine", "remind me every night at", "21:00"),
        ("nine", "remind me every morning at", "09:00"),
        ("nine pm", "", "21:00"),
        ("nine am", "every night", "09:00"),
        ("nine thirty pm", "", "21:30"),
        ("nine oh five pm", "", "21:05"),
        ("ten o'clock at night", "", "22:00"),
        ("seven in the morning", "", "07:00"),
        ("half past nine in the evening", "", "21:30"),
        ("quarter past ten", "", "10:15"),
        ("quarter to ten pm", "", "21:45"),
        ("quarter to one", "", "12:45"),
        ("twelve am", "", "00:00"),
        ("twelve pm", "", "12:00"),
        ("twelve at night", "", "00:00"),
        ("21:00", "", "21:00"),
        ("9:30", "tonight", "21:30"),
        ("9:30 am", "", "09:30"),
        ("noon", "", "12:00"),
        ("midnight", "", "00:00"),
        ("evening", "", "EV"),
        ("night", "", "NI"),
        ("morning", "", "MO"),
        ("25:00", "", None),
        ("9:75", "", None),
    ],
)
def test_parse_time(phrase, context, value):
    assert parse_time(phrase, context.split()) == value
