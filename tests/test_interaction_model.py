"""The interaction model: the public contract, Alexa's utterance rules, and the skill package."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skill import interaction_model as im
from skill.interaction_model import ModelError

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "skill-package"

CUSTOM_INTENTS = {
    "BreathingIntent": {"technique": "BREATHING_TECHNIQUE", "minutes": "AMAZON.NUMBER"},
    "GroundingIntent": {},
    "SelfCompassionIntent": {},
    "ReflectionIntent": {},
    "FeedbackIntent": {"helpfulness": "HELPFULNESS"},
    "PatternsIntent": {},
    "ReminderIntent": {"time": "AMAZON.TIME"},
    "CancelReminderIntent": {},
    "PaceIntent": {"pace": "PACE"},
    "CrisisIntent": {},
    "ForgetMeIntent": {},
    "NoHoldsIntent": {"technique": "BREATHING_TECHNIQUE", "minutes": "AMAZON.NUMBER"},
    "DizzyIntent": {},
}
BUILTIN_INTENTS = {
    f"AMAZON.{name}Intent"
    for name in (
        "Help Stop Cancel Pause Resume Repeat Next StartOver Yes No Fallback NavigateHome".split()
    )
}
TYPE_IDS = {
    "BREATHING_TECHNIQUE": [
        "BOX",
        "FOUR_SEVEN_EIGHT",
        "RESONANCE",
        "CYCLIC_SIGH",
        "EXTENDED_EXHALE",
    ],
    "HELPFULNESS": ["A_LOT", "A_LITTLE", "NOT_REALLY"],
    "PACE": ["SLOWER", "FASTER"],
}


@pytest.fixture(scope="module")
def source() -> dict:
    return im.load_model_source("en-US")


@pytest.fixture(scope="module")
def language_model() -> dict:
    return im.build_interaction_model("en-US")["interactionModel"]["languageModel"]


def intent(model: dict, name: str) -> dict:
    return next(i for i in model["intents"] if i["name"] == name)


# --- the committed package -----------------------------------------------------------------------


def test_committed_skill_package_equals_a_fresh_build():
    endpoint = im.committed_endpoint(PACKAGE)
    assert endpoint is not None, "skill-package/skill.json is missing"
    fresh = im.render_skill_package(endpoint)
    for relative, text in fresh.items():
        committed = (PACKAGE / relative).read_text(encoding="utf-8")
        assert committed == text, f"{relative} is stale: run `breathing-room build-model`"
    models = {p.name for p in (PACKAGE / "interactionModels" / "custom").iterdir()}
    assert models == {Path(r).name for r in fresh if r.startswith("interactionModels/")}


def test_ask_resources_points_at_the_skill_package():
    data = json.loads((REPO / "ask-resources.json").read_text(encoding="utf-8"))
    assert data == {
        "askcliResourcesVersion": "2020-03-31",
        "profiles": {"default": {"skillMetadata": {"src": "./skill-package"}}},
    }


def test_build_time_modules_do_not_import_the_web_stack():
    code = (
        "import sys, skill.interaction_model, skill.matcher\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'ask_sdk_core', "
        "'ask_sdk_model', 'werkzeug')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# --- the public contract -------------------------------------------------------------------------


def test_invocation_name(language_model):
    assert language_model["invocationName"] == "breathing room"
    assert set(language_model) == {"invocationName", "intents", "types"}


def test_intents_and_slots_are_exactly_the_contract(language_model):
    declared = {
        i["name"]: {s["name"]: s["type"] for s in i.get("slots", [])}
        for i in language_model["intents"]
    }
    assert {n: s for n, s in declared.items() if not n.startswith("AMAZON.")} == CUSTOM_INTENTS
    assert {n for n in declared if n.startswith("AMAZON.")} == BUILTIN_INTENTS
    assert all(not s for n, s in declared.items() if n.startswith("AMAZON."))


def test_slot_type_ids_are_exact(language_model):
    ids = {t["name"]: [v["id"] for v in t["values"]] for t in language_model["types"]}
    assert ids == TYPE_IDS


@pytest.mark.parametrize(
    ("name", "minimum"),
    [
        ("BreathingIntent", 15),
        ("GroundingIntent", 15),
        ("SelfCompassionIntent", 15),
        ("ReflectionIntent", 15),
        ("CrisisIntent", 25),
        ("FeedbackIntent", 5),
        ("PatternsIntent", 5),
        ("ReminderIntent", 5),
        ("CancelReminderIntent", 5),
        ("PaceIntent", 5),
        ("ForgetMeIntent", 5),
    ],
)
def test_enough_samples(language_model, name, minimum):
    assert len(intent(language_model, name)["samples"]) >= minimum


@pytest.mark.parametrize(
    ("name", "samples"),
    [
        ("BreathingIntent", ["{technique} for {minutes} minutes", "breathe with me"]),
        ("BreathingIntent", ["help me breathe", "i need to calm down"]),
        ("GroundingIntent", ["ground me", "five four three two one", "i'm panicking"]),
        ("ReflectionIntent", ["tonight's reflection", "give me something to reflect on"]),
        ("FeedbackIntent", ["{helpfulness}", "it helped {helpfulness}"]),
        ("PatternsIntent", ["what helps me", "which exercises work for me", "my patterns"]),
        ("ReminderIntent", ["remind me every night at {time}"]),
        ("PaceIntent", ["{pace}", "go {pace}", "a bit {pace}"]),
        ("ForgetMeIntent", ["delete my history", "forget me"]),
        (
            "CrisisIntent",
            [
                "i want to die",
                "i want to kill myself",
                "i don't want to be here anymore",
                "i'm thinking about ending it",
                "i want to hurt myself",
                "i can't go on",
                "i'm not safe",
                "i'm not ok",
                "i'm in crisis",
                "i need help right now",
                "everyone would be better off without me",
            ],
        ),
    ],
)
def test_key_samples_are_present(language_model, name, samples):
    assert set(samples) <= set(intent(language_model, name)["samples"])


def test_panic_is_grounding_not_crisis(language_model):
    crisis = intent(language_model, "CrisisIntent")["samples"]
    assert not [s for s in crisis if "panic" in s]


@pytest.mark.parametrize(
    ("type_name", "value_id", "synonyms"),
    [
        ("BREATHING_TECHNIQUE", "BOX", ["square breathing", "four by four"]),
        ("BREATHING_TECHNIQUE", "FOUR_SEVEN_EIGHT", ["four seven eight"]),
        ("BREATHING_TECHNIQUE", "RESONANCE", ["coherent breathing", "six breaths a minute"]),
        ("BREATHING_TECHNIQUE", "CYCLIC_SIGH", ["physiological sigh", "double inhale"]),
        ("BREATHING_TECHNIQUE", "EXTENDED_EXHALE", ["long exhale", "calming breath"]),
        ("PACE", "SLOWER", ["slow down", "more slowly"]),
        ("PACE", "FASTER", ["speed up", "quicker"]),
    ],
)
def test_rich_synonyms(language_model, type_name, value_id, synonyms):
    slot_type = next(t for t in language_model["types"] if t["name"] == type_name)
    value = next(v for v in slot_type["values"] if v["id"] == value_id)
    assert set(synonyms) <= set(value["name"]["synonyms"])


def test_builtin_vocabulary_is_kept_out_of_the_model(source, language_model):
    phrases = im.chat_phrases(source)
    assert phrases["AMAZON.StopIntent"][:4] == ["stop", "quit", "exit", "that's enough"]
    assert {"pause", "hold on", "wait"} <= set(phrases["AMAZON.PauseIntent"])
    assert {"resume", "continue", "carry on", "keep going"} <= set(phrases["AMAZON.ResumeIntent"])
    assert {"go home", "main menu"} <= set(phrases["AMAZON.NavigateHomeIntent"])
    assert set(phrases) <= BUILTIN_INTENTS
    emitted = {s for i in language_model["intents"] for s in i["samples"]}
    chat = {p for values in phrases.values() for p in values}
    assert not emitted & chat
    assert intent(language_model, "AMAZON.FallbackIntent")["samples"] == []


def test_yes_and_no_are_words_not_yaml_booleans(source):
    phrases = im.chat_phrases(source)
    assert "yes" in phrases["AMAZON.YesIntent"]
    assert "no" in phrases["AMAZON.NoIntent"]


# --- utterance rules -----------------------------------------------------------------------------


def test_every_utterance_follows_the_rules(language_model):
    seen: dict[str, str] = {}
    for entry in language_model["intents"]:
        declared = {s["name"] for s in entry.get("slots", [])}
        for sample in entry["samples"]:
            assert sample == " ".join(sample.split())
            assert len(sample) <= im.MAX_UTTERANCE_CHARS
            for token in sample.split(" "):
                if token.startswith("{"):
                    assert token[1:-1] in declared, (entry["name"], sample)
                else:
                    assert im._WORD.fullmatch(token), (entry["name"], sample, token)
            assert sample not in seen, (sample, entry["name"], seen.get(sample))
            seen[sample] = entry["name"]
    for slot_type in language_model["types"]:
        for value in slot_type["values"]:
            for phrase in (value["name"]["value"], *value["name"]["synonyms"]):
                assert phrase == phrase.lower() and not any(c.isdigit() for c in phrase)
                im.validate_phrase(phrase, slot_type["name"])


@pytest.mark.parametrize(
    ("intent_name", "bad_sample", "reason"),
    [
        ("BreathingIntent", "Breathe With Me Now", "lowercase"),
        ("BreathingIntent", "breathe for 5 minutes", "spelled out"),
        ("GroundingIntent", "can you ground me?", "punctuation"),
        ("GroundingIntent", "ground me, please", "punctuation"),
        ("GroundingIntent", "do the five-four-three-two-one", "punctuation"),
        ("ReflectionIntent", "reflect!", "punctuation"),
        ("BreathingIntent", "breathe for {seconds} seconds", "not declared"),
        ("PaceIntent", "{pace} and {pace}", "used twice"),
        ("PaceIntent", "{ pace }", "slot reference"),
        ("BreathingIntent", "ground me", "duplicate utterance"),
        ("GroundingIntent", "ground  me", "twice"),
        ("CrisisIntent", "i want to die", "twice"),
        ("AMAZON.HelpIntent", "stop", "duplicate utterance"),
        ("ReflectionIntent", "reflect " * 40, "longer than 200"),
        ("ReflectionIntent", "   ", "empty"),
        ("ReflectionIntent", 42, "must be a string"),
        ("AMAZON.FallbackIntent", "something else", "must not have sample"),
    ],
)
def test_validator_rejects_bad_samples(source, intent_name, bad_sample, reason):
    broken = copy.deepcopy(source)
    spec = broken["intents"][intent_name] = dict(broken["intents"][intent_name] or {})
    spec["samples"] = [*(spec.get("samples") or []), bad_sample]
    with pytest.raises(ModelError) as raised:
        im.build_language_model(broken)
    message = str(raised.value)
    assert intent_name in message
    assert reason in message


def test_duplicate_across_intents_names_both(source):
    broken = copy.deepcopy(source)
    broken["intents"]["PatternsIntent"]["samples"].append("forget me")
    with pytest.raises(ModelError, match="duplicate utterance") as raised:
        im.build_language_model(broken)
    assert "PatternsIntent" in str(raised.value) and "ForgetMeIntent" in str(raised.value)
    assert "'forget me'" in str(raised.value)


@pytest.mark.parametrize(
    "good",
    ["remind me at nine a. m.", "tonight's reflection", "i'm o'kay", "{minutes} minutes"],
)
def test_validator_accepts_apostrophes_and_spelled_abbreviations(good):
    assert im.validate_phrase(f" {good}  ", "intent X", {"minutes": "AMAZON.NUMBER"}) == good


def _mutate(source: dict, path: tuple, value) -> dict:
    broken = copy.deepcopy(source)
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return broken


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("invocation",), "Breathing Room", "lowercase"),
        (("invocation",), "open breathing room", "must not contain open"),
        (("types", "PACE", 0, "synonyms"), ["Slow Down"], "slot type PACE value SLOWER"),
        (("types", "PACE", 0, "synonyms"), ["four times slower", "faster"], "already a value"),
        (("types", "PACE", 0, "value"), "2x slower", "spelled out"),
        (("types", "PACE", 1, "id"), "SLOWER", "duplicate id"),
        (("types", "PACE", 1, "id"), "faster!", "value id"),
        (("types", "UNUSED"), [{"id": "X", "value": "x"}], "not used by any intent"),
        (("intents", "PaceIntent", "slots", "pace"), "PACES", "unknown slot type"),
        (("intents", "PaceIntent", "slots", "speed"), "PACE", "speed not used"),
        (("intents", "ForgetMeIntent", "samples"), [], "at least one sample"),
        (("intents", "Bad-Name"), {"samples": ["x"]}, "invalid intent name"),
        (("intents", "ForgetMeIntent", "sample"), ["x"], "unknown key"),
        (("chat_phrases", "AMAZON.StopIntent"), ["ground me"], "also in GroundingIntent"),
        (("chat_phrases", "AMAZON.SelectIntent"), ["that one"], "not declared"),
        (("chat_phrases", "GroundingIntent"), ["ground"], "only built-in"),
        (("chat_phrases", "AMAZON.NoIntent"), ["No!"], "AMAZON.NoIntent"),
        (("extra",), {}, "unknown key"),
        (("chat_phrases", "AMAZON.NoIntent"), ["no {thanks}"], "not allowed here"),
        (("intents",), {}, "none declared"),
        (("intents",), ["BreathingIntent"], "expected a mapping"),
        (("intents", "ForgetMeIntent", "samples"), "forget me", "expected a list"),
        (("intents", "PaceIntent", "slots", "2pace"), "PACE", "invalid slot name"),
        (("types", "Bad-Type"), [{"id": "X", "value": "x"}], "letters and underscores"),
        (("types", "PACE"), [], "has no values"),
    ],
)
def test_validator_rejects_bad_structure(source, path, value, message):
    with pytest.raises(ModelError) as raised:
        im.build_language_model(_mutate(source, path, value))
    assert message in str(raised.value)


# --- loading -------------------------------------------------------------------------------------


@pytest.fixture
def content_copy(tmp_path) -> Path:
    target = tmp_path / "content" / "en-US"
    target.mkdir(parents=True)
    shutil.copy(REPO / "content" / "en-US" / im.MODEL_FILE, target / im.MODEL_FILE)
    return tmp_path / "content"


def test_content_root_env_override(content_copy, monkeypatch):
    path = content_copy / "en-US" / im.MODEL_FILE
    path.write_text(path.read_text().replace("invocation: breathing room", "invocation: calm room"))
    monkeypatch.setenv(im.CONTENT_ENV, str(content_copy))
    assert im.content_root() == content_copy
    model = im.build_interaction_model()["interactionModel"]["languageModel"]
    assert model["invocationName"] == "calm room"
    assert im.available_locales() == ("en-US",)


def test_explicit_root_wins_over_env(content_copy, monkeypatch, tmp_path):
    monkeypatch.setenv(im.CONTENT_ENV, str(tmp_path / "nowhere"))
    assert im.load_model_source("en-US", content_copy)["invocation"] == "breathing room"


def test_missing_file_and_bad_yaml(content_copy):
    with pytest.raises(ModelError, match="cannot read"):
        im.load_model_source("de-DE", content_copy)
    path = content_copy / "en-US" / im.MODEL_FILE
    path.write_text("invocation: [unclosed\n")
    with pytest.raises(ModelError, match="invalid YAML"):
        im.load_model_source("en-US", content_copy)
    path.write_text("- just a list\n")
    with pytest.raises(ModelError, match="mapping at the top level"):
        im.load_model_source("en-US", content_copy)
    with pytest.raises(ModelError, match="no <locale>"):
        im.available_locales(content_copy / "en-US")


def test_duplicate_yaml_keys_are_an_error(content_copy):
    path = content_copy / "en-US" / im.MODEL_FILE
    text = path.read_text()
    path.write_text(text.replace("  GroundingIntent:\n", "  BreathingIntent:\n", 1))
    with pytest.raises(ModelError, match=r"line \d+: duplicate key 'BreathingIntent'"):
        im.load_model_source("en-US", content_copy)


def test_build_error_names_the_file_and_intent(content_copy):
    path = content_copy / "en-US" / im.MODEL_FILE
    path.write_text(path.read_text().replace("      - ground me\n", "      - Ground Me\n", 1))
    with pytest.raises(ModelError) as raised:
        im.build_interaction_model("en-US", content_copy)
    assert str(path) in str(raised.value)
    assert "GroundingIntent" in str(raised.value) and "'Ground Me'" in str(raised.value)


# --- skill.json ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest() -> dict:
    return im.build_manifest("https://skill.example.org/alexa")["manifest"]


def test_manifest_publishing(manifest):
    info = manifest["publishingInformation"]
    locale = info["locales"]["en-US"]
    assert locale["name"] == "Breathing Room"
    assert locale["summary"]
    assert "not a substitute for professional advice" in locale["description"]
    assert "call your local emergency number" in locale["description"]
    assert locale["examplePhrases"] == [
        "Alexa, open breathing room",
        "Alexa, ask breathing room to ground me",
        "Alexa, ask breathing room for a breathing exercise",
    ]
    assert locale["keywords"]
    assert info["category"] == "HEALTH_AND_FITNESS"
    assert info["distributionCountries"] == ["US"]
    assert info["isAvailableWorldwide"] is False
    assert info["testingInstructions"]


def test_manifest_endpoint_permissions_and_events(manifest):
    endpoint = {"uri": "https://skill.example.org/alexa", "sslCertificateType": "Wildcard"}
    assert manifest["manifestVersion"] == "1.0"
    assert manifest["apis"] == {"custom": {"endpoint": endpoint, "interfaces": []}}
    assert manifest["permissions"] == [{"name": "alexa::alerts:reminders:skill:readwrite"}]
    assert manifest["events"] == {
        "endpoint": endpoint,
        "subscriptions": [
            {"eventName": "SKILL_DISABLED"},
            {"eventName": "SKILL_PERMISSION_ACCEPTED"},
            {"eventName": "SKILL_PERMISSION_CHANGED"},
        ],
    }


def test_manifest_privacy(manifest):
    privacy = manifest["privacyAndCompliance"]
    assert privacy["usesPersonalInfo"] is False
    assert privacy["isChildDirected"] is False
    assert privacy["containsAds"] is False
    assert privacy["allowsPurchases"] is False
    assert privacy["isExportCompliant"] is True
    urls = privacy["locales"]["en-US"]
    assert urls["privacyPolicyUrl"].startswith("https://")
    assert urls["termsOfUseUrl"].startswith("https://")


@pytest.mark.parametrize("endpoint", ["http://example.com/alexa", "example.com", "https://", ""])
def test_manifest_needs_an_https_endpoint(endpoint):
    with pytest.raises(ModelError, match="https"):
        im.build_manifest(endpoint)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("description", "Breathing, calmly.", "health disclaimer"),
        ("example_phrases", ["Alexa, ask breathing room to fly me to the moon"], "not a sample"),
        ("example_phrases", ["Alexa, open calm room"], "must be"),
        ("example_phrases", [], "one to three"),
        ("summary", "x" * 161, "longer than 160"),
        ("name", "", "name is required"),
    ],
)
def test_manifest_checks_publishing_text(content_copy, field, value, message):
    path = content_copy / "en-US" / im.MODEL_FILE
    source = im.load_model_source("en-US", content_copy)
    source["publishing"][field] = value
    path.write_text(json.dumps(source))  # JSON is YAML
    with pytest.raises(ModelError, match=message):
        im.build_manifest(locales=("en-US",), root=content_copy)


# --- writing -------------------------------------------------------------------------------------


def test_write_skill_package_is_deterministic_and_keeps_the_endpoint(tmp_path):
    out = tmp_path / "pkg"
    written = im.write_skill_package(out, "https://one.example.net/alexa")
    assert [p.relative_to(out).as_posix() for p in written] == [
        "skill.json",
        "interactionModels/custom/en-US.json",
    ]
    first = {p: p.read_bytes() for p in written}
    assert all(b.endswith(b"\n") and not b.endswith(b"\n\n") for b in first.values())
    im.write_skill_package(out)  # no endpoint: keep the one already there
    assert {p: p.read_bytes() for p in written} == first
    assert im.committed_endpoint(out) == "https://one.example.net/alexa"
    model = json.loads((out / "interactionModels/custom/en-US.json").read_text(encoding="utf-8"))
    assert model == im.build_interaction_model("en-US")


def test_write_without_any_endpoint_uses_the_placeholder(tmp_path):
    im.write_skill_package(tmp_path)
    assert im.committed_endpoint(tmp_path) == im.DEFAULT_ENDPOINT


def test_nothing_is_written_when_the_model_is_invalid(tmp_path, content_copy):
    path = content_copy / "en-US" / im.MODEL_FILE
    path.write_text(path.read_text().replace("- ground me\n", "- ground me?\n", 1))
    with pytest.raises(ModelError):
        im.write_skill_package(tmp_path / "pkg", root=content_copy)
    assert not (tmp_path / "pkg").exists()


def test_manifest_needs_a_locale():
    with pytest.raises(ModelError, match="no locales"):
        im.build_manifest(locales=())


def test_main_writes_checks_and_reports(tmp_path, capsys):
    out = tmp_path / "pkg"
    assert im.main(["--out", str(out), "--endpoint", "https://two.example.net/alexa"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert im.main(["--out", str(out), "--check"]) == 0
    (out / "skill.json").write_text("{}\n")
    assert im.main(["--out", str(out), "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    (out / "interactionModels/custom/en-US.json").unlink()
    assert im.main(["--out", str(out), "--check"]) == 1
    assert capsys.readouterr().err.count("out of date") == 2
    assert im.main(["--out", str(out), "--endpoint", "http://insecure.example.net"]) == 1
    assert "https" in capsys.readouterr().err


def test_every_intent_has_a_handler_and_every_handler_intent_is_in_the_model():
    from skill.handlers import handled_intents

    model = im.build_interaction_model("en-US")["interactionModel"]["languageModel"]
    in_model = {intent["name"] for intent in model["intents"]}
    assert handled_intents() == in_model
