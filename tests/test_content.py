"""The content files and their loader: the real content is sound, and mistakes are named.

Error cases copy the real content to a temporary folder, break one thing, and check that the
error names the file, the line and the field path. Edits find their target through the YAML
node tree, so the cases keep working when the wording or layout of the content changes.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from skill.content import (
    ENV_VAR,
    REFLECTION_THEMES,
    REQUIRED_MESSAGES,
    TEMPLATE_FIELDS,
    ContentError,
    all_phrases,
    default_content_root,
    load_all,
    load_content,
    load_crisis_lines,
)
from skill.content_model import Content

ROOT = Path(__file__).resolve().parent.parent / "content"
TECHNIQUES = ("BOX", "FOUR_SEVEN_EIGHT", "RESONANCE", "CYCLIC_SIGH", "EXTENDED_EXHALE")
MENU_MESSAGES = (
    "welcome",
    "welcome_back",
    "menu_question",
    "help",
    "fallback",
    "nothing_to_resume",
    "technique_unknown",
    "technique_question",
    "pace_not_breathing",
    "nothing_to_repeat",
    "next_not_in_exercise",
)
EXACT_MESSAGES = {
    "resuming": "Welcome back. Let's pick up where you left off.",
    "minutes_clamped_high": "Ten minutes is the longest, so we'll do ten.",
    "minutes_clamped_low": "One minute is the shortest, so we'll do one.",
    "start_over": "Let's begin again.",
    "keep_going": "Shall we keep going?",
    "say_next": "Say next when you're ready.",
    "cycles_limited": "We'll keep this one to four rounds.",
    "no_history": "I can't reach your history right now, so we'll start fresh today.",
    "stopped": "Okay, we'll stop here. Take good care.",
}
NUMBER_WORDS = {4: "four", 8: "eight"}


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content("en-US", ROOT)


def seconds_to_say(text: str, content: Content) -> float:
    return len(text.split()) / content.voice.words_per_second + 0.2


# --- the real content ---------------------------------------------------------------------


def test_every_locale_loads():
    loaded = load_all(ROOT)
    assert "en-US" in loaded
    assert all(item.locale == locale for locale, item in loaded.items())


def test_loading_is_a_pure_function_of_the_files(content):
    assert load_content("en-US", ROOT) == content


def test_default_root_is_the_repository_content_folder(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert default_content_root() == ROOT


def test_default_root_can_be_overridden(monkeypatch, tmp_path):
    shutil.copytree(ROOT, tmp_path / "elsewhere")
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "elsewhere"))
    assert default_content_root() == tmp_path / "elsewhere"
    assert load_content().locale == "en-US"


def test_content_cannot_be_changed_at_run_time(content):
    with pytest.raises(dataclasses.FrozenInstanceError):
        content.default_technique = "BOX"  # type: ignore[misc]
    with pytest.raises(TypeError):
        content.messages["welcome"] = content.messages["goodbye"]  # type: ignore[index]
    with pytest.raises(TypeError):
        content.techniques["BOX"] = content.techniques["RESONANCE"]  # type: ignore[index]


def test_exactly_the_required_messages(content):
    assert tuple(content.messages) == REQUIRED_MESSAGES
    for name, phrase in content.messages.items():
        assert phrase.key == f"messages.{name}"
        assert content.message(name) is phrase


@pytest.mark.parametrize("name", MENU_MESSAGES)
def test_messages_that_offer_a_choice_end_with_a_question(content, name):
    assert content.message(name).text.endswith("?")


@pytest.mark.parametrize("name", sorted(EXACT_MESSAGES))
def test_messages_with_agreed_wording(content, name):
    assert content.message(name).text == EXACT_MESSAGES[name]


def test_in_exercise_messages_hand_back_to_the_practice(content):
    assert content.message("help_in_exercise").text.endswith("Shall we keep going?")
    assert content.message("fallback_in_exercise").text.endswith("?")
    for word in ("next", "pause", "stop"):
        assert word in content.message("fallback_in_exercise").text


def test_help_lists_the_controls_and_the_disclaimer(content):
    text = content.message("help").text
    for control in ("pause", "resume", "next", "repeat", "start over", "slower", "faster", "stop"):
        assert control in text
    assert "not a substitute for professional care" in text


def test_paused_says_how_to_resume(content):
    assert "say, Alexa, ask breathing room to resume" in content.message("paused").text


def test_technique_lists_name_every_technique(content):
    for name in ("technique_unknown", "technique_question"):
        text = content.message(name).text
        for technique in content.techniques.values():
            assert technique.name in text, (name, technique.name)


def test_cycles_limited_matches_the_four_seven_eight_cap(content):
    cap = content.techniques["FOUR_SEVEN_EIGHT"].max_cycles
    assert NUMBER_WORDS[cap] in content.message("cycles_limited").text


def test_voice_rules_hold_for_every_phrase(content):
    claims = re.compile(r"\b(cures?|treats?|treatment|heals?|healing|diagnos\w*)\b", re.I)
    for key, phrase in all_phrases(content).items():
        assert "!" not in phrase.text, key
        assert not claims.search(phrase.text), key
        assert "<" not in phrase.text and ">" not in phrase.text, key


def test_phrase_keys_are_unique_across_the_content(content):
    phrases = [
        *content.messages.values(),
        *(
            phrase
            for t in content.techniques.values()
            for phrase in (t.intro, t.outro, t.caution, *(p.cue for p in t.phases))
            if phrase is not None
        ),
        *(
            phrase
            for practice in (content.grounding, content.self_compassion)
            for phrase in (
                practice.intro,
                practice.outro,
                practice.keep_going,
                *(item.say for step in practice.steps for item in step.items),
            )
            if phrase is not None
        ),
        content.reflection.intro,
        content.reflection.outro,
        *(prompt.text for prompt in content.reflection.prompts),
        content.crisis.message,
        content.reminder.text,
    ]
    keys = [phrase.key for phrase in phrases]
    assert len(keys) == len(set(keys))
    # Templates are filled at run time, so the audio build never sees them.
    fixed = {phrase.key for phrase in phrases if not phrase.fields}
    assert fixed == set(all_phrases(content))
    assert {p.key for p in phrases if p.fields} == {
        f"messages.{name}" for name in TEMPLATE_FIELDS
    }


def test_phrase_keys_follow_the_scheme(content):
    keys = set(all_phrases(content))
    assert {
        "messages.welcome",
        "breathing.BOX.intro",
        "breathing.BOX.outro",
        "breathing.BOX.caution",
        "breathing.BOX.cue.inhale",
        "breathing.CYCLIC_SIGH.cue.top_up",
        "grounding.intro",
        "grounding.see.1",
        "grounding.keep_going",
        "self_compassion.intro",
        "self_compassion.kindness.1",
        "reflection.intro",
        "reflection.outro",
        "crisis.en-US.message",
        "reminder.text",
    } <= keys
    prompt = content.reflection.prompts[0]
    assert prompt.text.key == f"reflection.prompt.{prompt.id}"


def test_five_techniques_in_file_order(content):
    assert tuple(content.techniques) == TECHNIQUES
    for tid, technique in content.techniques.items():
        assert technique.id == tid
        assert technique.source
        assert 1 <= technique.default_minutes <= 10


def test_default_technique_is_the_gentle_one(content):
    assert content.default_technique == "EXTENDED_EXHALE"
    assert not content.techniques[content.default_technique].has_holds


@pytest.mark.parametrize("tid", TECHNIQUES)
def test_default_pace_is_one_cycle_per_phase_sum(content, tid):
    technique = content.techniques[tid]
    cycle = sum(phase.seconds for phase in technique.phases)
    assert technique.pace.default == pytest.approx(60 / cycle, abs=0.001)
    assert technique.pace.min <= technique.pace.default <= technique.pace.max
    assert any(value == pytest.approx(technique.pace.default) for value in technique.pace.values())


@pytest.mark.parametrize("tid", TECHNIQUES)
def test_cues_fit_well_inside_their_phase_at_the_fastest_pace(content, tid):
    technique = content.techniques[tid]
    for phase in technique.phases:
        shortest = phase.seconds * technique.pace.default / technique.pace.max
        assert seconds_to_say(phase.cue.text, content) <= 0.75 * shortest, phase.name


def test_box_is_four_four_four_four(content):
    box = content.techniques["BOX"]
    assert [p.seconds for p in box.phases] == [4, 4, 4, 4]
    assert [p.hold for p in box.phases] == [False, True, False, True]
    assert box.pace.default == 3.75


def test_four_seven_eight_keeps_its_rhythm_and_four_rounds(content):
    technique = content.techniques["FOUR_SEVEN_EIGHT"]
    assert [p.seconds for p in technique.phases] == [4, 7, 8]
    assert [p.hold for p in technique.phases] == [False, True, False]
    assert technique.max_cycles == 4
    assert technique.pace.min == technique.pace.max == technique.pace.default
    assert len(technique.pace.values()) == 1
    # The default session is exactly the four rounds, so it never needs "cycles_limited".
    assert round(technique.default_minutes * technique.pace.default) == 4


def test_resonance_is_five_in_five_out_at_six(content):
    technique = content.techniques["RESONANCE"]
    assert [p.seconds for p in technique.phases] == [5, 5]
    assert technique.pace.values() == (4.5, 5.0, 5.5, 6.0, 6.5, 7.0)
    assert not technique.has_holds


def test_cyclic_sigh_has_a_top_up_and_a_long_exhale(content):
    technique = content.techniques["CYCLIC_SIGH"]
    inhale, top_up, exhale = technique.phases
    assert top_up.seconds < inhale.seconds
    assert exhale.seconds > inhale.seconds + top_up.seconds
    assert technique.default_minutes == 5
    assert not technique.has_holds


def test_extended_exhale_is_four_in_six_out(content):
    technique = content.techniques["EXTENDED_EXHALE"]
    assert [p.seconds for p in technique.phases] == [4, 6]
    assert technique.pace.default == 6


@pytest.mark.parametrize("tid", TECHNIQUES)
def test_caution_exactly_where_holds_or_forceful_breathing_are(content, tid):
    technique = content.techniques[tid]
    if technique.has_holds or tid == "CYCLIC_SIGH":
        assert "If you feel light-headed, just breathe normally." in technique.caution.text
    else:
        assert technique.caution is None


def test_grounding_is_five_four_three_two_one(content):
    grounding = content.grounding
    assert [step.id for step in grounding.steps] == ["see", "touch", "hear", "smell", "taste"]
    assert grounding.keep_going.text == "Shall we keep going?"
    assert "imagine is fine" in " ".join(
        item.say.text for step in grounding.steps for item in step.items if item.say
    )


def test_self_compassion_break_has_three_steps(content):
    practice = content.self_compassion
    assert len(practice.steps) == 3
    assert practice.keep_going.text == "Say next when you're ready."
    said = [" ".join(i.say.text for i in step.items if i.say) for step in practice.steps]
    assert "moment of suffering" in said[0]
    assert "part of being human" in said[1]
    assert "may I be kind to myself" in said[2]
    assert "If it feels right" in said[2]


def guided_seconds(practice, content: Content) -> list[float]:
    return [
        sum(
            (seconds_to_say(item.say.text, content) if item.say else 0) + item.pause
            for item in step.items
        )
        for step in practice.steps
    ]


def test_guided_practices_are_unhurried_and_fit_responses(content):
    for practice in (content.grounding, content.self_compassion):
        lengths = guided_seconds(practice, content)
        assert max(lengths) <= 200, practice.id
        for step in practice.steps:
            assert all(item.pause >= 5 for item in step.items), step.id
    assert 4 * 60 <= sum(guided_seconds(content.grounding, content)) <= 6 * 60


def test_reflection_prompts_cover_every_theme(content):
    prompts = content.reflection.prompts
    assert len(prompts) >= 36
    assert {prompt.theme for prompt in prompts} == set(REFLECTION_THEMES)
    for theme in REFLECTION_THEMES:
        assert sum(prompt.theme == theme for prompt in prompts) >= 4, theme
    assert len({prompt.id for prompt in prompts}) == len(prompts)
    for prompt in prompts:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", prompt.id)
        assert prompt.text.text.endswith("?"), prompt.id
    assert 30 <= content.reflection.silence_seconds <= 120


def test_crisis_message_gives_the_lines_at_once(content):
    crisis = content.crisis
    spoken = crisis.message.text
    assert spoken.startswith("I'm really glad you told me")
    assert "nine eight eight" in spoken and "nine one one" in spoken
    assert "988" in crisis.card_text and "911" in crisis.card_text
    assert not re.search(r"breath|exercise|ground", spoken, re.I)
    assert crisis.source.startswith("https://988lifeline.org")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", crisis.checked)


def test_voice_settings(content):
    assert content.voice.rate == "90%"
    assert 2 <= content.voice.words_per_second <= 3


# --- errors name the file, the line and the field -----------------------------------------


def find(text: str, path: tuple) -> tuple[yaml.Node, yaml.Node | None, yaml.Node]:
    """(parent, key node or None, value node) at ``path`` in the YAML ``text``."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    parent, key = node, None
    for part in path:
        parent = node
        if isinstance(part, int):
            key, node = None, node.value[part]
        else:
            key, node = next((k, v) for k, v in node.value if k.value == part)
    return parent, key, node


Edit = Callable[[str], tuple[str, int]]


def replace(path: tuple, new: str) -> Edit:
    """Put ``new`` where the value at ``path`` is; the error is on that value's line."""

    def edit(text: str) -> tuple[str, int]:
        _, _, node = find(text, path)
        start, end = node.start_mark.index, node.end_mark.index
        old = text[start:end]
        kept = old[len(old.rstrip()) :]  # block values end with the next line's indentation
        return text[:start] + new + kept + text[end:], node.start_mark.line + 1

    return edit


def insert_before(path: tuple, line: str) -> Edit:
    """Add ``line`` as a new key just before the (block mapping) key at ``path``."""

    def edit(text: str) -> tuple[str, int]:
        _, key, _ = find(text, path)
        mark = key.start_mark
        inserted = f"{line}\n{' ' * mark.column}"
        return text[: mark.index] + inserted + text[mark.index :], mark.line + 1

    return edit


def delete(path: tuple) -> Edit:
    """Remove the key at ``path`` (not a mapping's first); the error is on the mapping."""

    def edit(text: str) -> tuple[str, int]:
        parent, key, node = find(text, path)
        assert parent.value[0][0] is not key, "deleting a first key moves the mapping"
        lines = text.splitlines(keepends=True)
        end = node.end_mark.line if node.end_mark.column else node.end_mark.line - 1
        del lines[key.start_mark.line : end + 1]
        return "".join(lines), parent.start_mark.line + 1

    return edit


@dataclass(frozen=True)
class Case:
    file: str
    edit: Edit
    field: str
    problem: str
    #: Where the error is, when not where the edit is: the node at this path.
    line_of: tuple | None = None


BOX = ("techniques", "BOX")
CASES = {
    "unknown key": Case(
        "breathing.yaml",
        insert_before((*BOX, "outro"), "colour: blue"),
        "techniques.BOX.colour",
        "unknown field 'colour'",
    ),
    "misspelt key": Case(
        "breathing.yaml",
        insert_before((*BOX, "outro"), "intr: Hello."),
        "techniques.BOX.intr",
        "did you mean 'intro'?",
    ),
    "duplicate key": Case(
        "breathing.yaml",
        insert_before((*BOX, "outro"), "name: box again"),
        "techniques.BOX.name",
        "duplicate key (first on line",
    ),
    "missing field": Case(
        "breathing.yaml", delete((*BOX, "outro")), "techniques.BOX.outro", "missing required"
    ),
    "seconds as a word": Case(
        "breathing.yaml",
        replace((*BOX, "phases", 1, "seconds"), "four"),
        "techniques.BOX.phases[1].seconds",
        "must be a number of seconds between 1 and 20, got 'four'",
    ),
    "seconds in quotes": Case(
        "breathing.yaml",
        replace((*BOX, "phases", 0, "seconds"), '"4"'),
        "techniques.BOX.phases[0].seconds",
        "got '4'",
    ),
    "seconds as a flag": Case(
        "breathing.yaml",
        replace((*BOX, "phases", 0, "seconds"), "true"),
        "techniques.BOX.phases[0].seconds",
        "got true",
    ),
    "zero seconds": Case(
        "breathing.yaml",
        replace((*BOX, "phases", 2, "seconds"), "0"),
        "techniques.BOX.phases[2].seconds",
        "between 1 and 20, got 0",
    ),
    "hold not a flag": Case(
        "breathing.yaml",
        replace((*BOX, "phases", 1, "hold"), "sometimes"),
        "techniques.BOX.phases[1].hold",
        "must be true or false",
    ),
    "duplicate phase name": Case(
        "breathing.yaml",
        replace((*BOX, "phases", 3, "name"), "hold_full"),
        "techniques.BOX.phases[3].name",
        "duplicate phase name 'hold_full'",
    ),
    "cue too long": Case(
        "breathing.yaml",
        replace((*BOX, "phases", 1, "cue"), '"Hold your breath gently, and keep holding it."'),
        "techniques.BOX.phases[1].cue",
        "too long for a 3.2 s phase at the fastest pace",
    ),
    "pace not matching the cycle": Case(
        "breathing.yaml",
        replace((*BOX, "pace", "default"), "4"),
        "techniques.BOX.pace.default",
        "must equal 60 / cycle length = 60 / 16 s = 3.75",
    ),
    "pace min above max": Case(
        "breathing.yaml",
        replace(("techniques", "RESONANCE", "pace", "min"), "8"),
        "techniques.RESONANCE.pace.min",
        "must not be more than pace.max (7)",
    ),
    "pace step not dividing the range": Case(
        "breathing.yaml",
        replace(("techniques", "RESONANCE", "pace", "step"), "0.75"),
        "techniques.RESONANCE.pace.step",
        "whole steps",
    ),
    "default minutes beyond the round cap": Case(
        "breathing.yaml",
        replace(("techniques", "FOUR_SEVEN_EIGHT", "default_minutes"), "3"),
        "techniques.FOUR_SEVEN_EIGHT.default_minutes",
        "must fit within max_cycles",
    ),
    "default technique pointing nowhere": Case(
        "breathing.yaml",
        replace(("default_technique",), "HOLOTROPIC"),
        "default_technique",
        "'HOLOTROPIC' is not a technique id",
    ),
    "yaml syntax error": Case(
        "breathing.yaml", replace((*BOX, "name"), "box: breathing"), "", "invalid YAML"
    ),
    "negative pause": Case(
        "grounding.yaml",
        replace(("steps", 0, "items", 1, "pause"), "-3"),
        "steps[0].items[1].pause",
        "between 1 and 60, got -3",
    ),
    "duplicate step id": Case(
        "grounding.yaml",
        replace(("steps", 2, "id"), "see"),
        "steps[2].id",
        "duplicate step id 'see'",
    ),
    "step too long for one response": Case(
        "grounding.yaml",
        replace(
            ("steps", 0, "items"),
            "[{say: Look around., pause: 60}, {pause: 60}, {pause: 60}, {pause: 30}]",
        ),
        "steps[0]",
        "keep a step within 200 s",
        line_of=("steps", 0),
    ),
    "ssml in text": Case(
        "messages.yaml",
        replace(("welcome",), "Hello <break time='1s'/> there."),
        "welcome",
        "must not contain '<' or '>'",
    ),
    "empty text": Case(
        "messages.yaml", replace(("goodbye",), '"  "'), "goodbye", "must not be empty"
    ),
    "missing required message": Case(
        "messages.yaml", delete(("goodbye",)), "goodbye", "missing required message"
    ),
    "unknown message": Case(
        "messages.yaml",
        insert_before(("goodbye",), "farewel: See you."),
        "farewel",
        "unknown message 'farewel'",
    ),
    "duplicate prompt id": Case(
        "reflection.yaml",
        replace(("prompts", 1, "id"), "feeling_message"),
        "prompts[1].id",
        "duplicate prompt id 'feeling_message' (first on line",
    ),
    "unknown theme": Case(
        "reflection.yaml",
        replace(("prompts", 0, "theme"), "curiousity"),
        "prompts[0].theme",
        "did you mean 'curiosity'?",
    ),
    "too few prompts": Case(
        "reflection.yaml",
        replace(("prompts",), "[{id: only_one, theme: patience, text: 'Why wait?'}]"),
        "prompts",
        "needs at least 30 prompts, got 1",
    ),
    "crisis source not https": Case(
        "crisis.yaml",
        replace(("source",), "http://988lifeline.org/"),
        "source",
        "must be an https:// address",
    ),
    "crisis checked not a date": Case(
        "crisis.yaml", replace(("checked",), "last week"), "checked", "as YYYY-MM-DD"
    ),
    "crisis checked an impossible date": Case(
        "crisis.yaml", replace(("checked",), "2026-02-30"), "checked", "got 2026-02-30"
    ),
    "template with a wrong placeholder": Case(
        "messages.yaml",
        replace(("patterns_offer",), "Would you like {exercize} now?"),
        "patterns_offer",
        "must use {exercise}, got {exercize}",
    ),
    "placeholder in a plain message": Case(
        "messages.yaml",
        replace(("goodbye",), "Goodbye {name}."),
        "goodbye",
        "must use no placeholders",
    ),
    "reminder time zone unknown": Case(
        "reminder.yaml",
        replace(("default_time_zone",), "Mars/Olympus_Mons"),
        "default_time_zone",
        "must be an IANA time zone",
    ),
    "voice rate not ssml": Case(
        "voice.yaml", replace(("rate",), "quick"), "rate", "must be an SSML prosody rate"
    ),
}


@pytest.fixture
def tree(tmp_path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(ROOT, root)
    return root


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_errors_name_file_line_and_field(tree, case):
    path = tree / "en-US" / case.file
    text, line = case.edit(path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    if case.line_of is not None:
        line = find(text, case.line_of)[2].start_mark.line + 1

    with pytest.raises(ContentError) as caught:
        load_content("en-US", tree)

    error = caught.value
    message = str(error)
    assert "\n" not in message
    assert error.path.endswith(f"en-US/{case.file}")
    assert error.line == line
    assert error.field == case.field
    assert case.problem in error.problem
    prefix = f"{error.path}:{line}: {case.field}: " if case.field else f"{error.path}:{line}: "
    assert message.startswith(prefix), message


def test_error_paths_are_relative_inside_the_working_folder(tree, monkeypatch):
    path = tree / "en-US" / "voice.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("2.4", "twelve"), encoding="utf-8")
    monkeypatch.chdir(tree.parent)
    with pytest.raises(ContentError, match=r"^content/en-US/voice\.yaml:\d+: words_per_second"):
        load_content("en-US", Path("content"))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda path: path.unlink(), "file not found"),
        (lambda path: path.write_text("", encoding="utf-8"), "file is empty"),
        (lambda path: path.write_text("- a list\n", encoding="utf-8"), "must be a mapping"),
        (lambda path: path.write_bytes(b"intro: caf\xe9\n"), "not UTF-8"),
    ],
    ids=["missing", "empty", "not a mapping", "not utf-8"],
)
def test_whole_file_problems(tree, change, problem):
    change(tree / "en-US" / "reflection.yaml")
    with pytest.raises(ContentError, match=r"reflection\.yaml") as caught:
        load_content("en-US", tree)
    assert problem in str(caught.value)


def test_unknown_locale(tree):
    with pytest.raises(ContentError, match="no content folder for locale 'xx-XX'"):
        load_content("xx-XX", tree)


def test_load_all_refuses_folders_that_are_not_locales(tree):
    (tree / "english").mkdir()
    with pytest.raises(ContentError, match="english: folder name is not a locale"):
        load_all(tree)


def test_load_all_needs_a_content_folder(tmp_path):
    with pytest.raises(ContentError, match="content folder not found"):
        load_all(tmp_path / "nowhere")
    with pytest.raises(ContentError, match="no locale folders"):
        load_all(tmp_path)


def test_other_files_in_a_locale_folder_are_left_alone(tree):
    (tree / "en-US" / "notes.yaml").write_text("anything: [goes\n", encoding="utf-8")
    assert load_content("en-US", tree).locale == "en-US"


def test_an_unquoted_date_is_read_as_written(tree):
    path = tree / "en-US" / "crisis.yaml"
    text, _ = replace(("checked",), "2026-11-27")(path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    assert load_content("en-US", tree).crisis.checked == "2026-11-27"


def test_crisis_lines_cover_the_english_locales_and_a_default():
    lines = load_crisis_lines()
    assert {"en-CA", "en-GB", "en-IE", "en-AU", "en-IN", "en-NZ", "default"} <= set(lines)
    assert "116 123" in lines["en-GB"].card_text and "13 11 14" in lines["en-AU"].card_text
    assert "14416" in lines["en-IN"].card_text and "1737" in lines["en-NZ"].card_text


def test_crisis_lines_without_a_default_are_refused(tree):
    path = tree / "crisis_lines.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.split("\ndefault:")[0] + "\n", encoding="utf-8")
    with pytest.raises(ContentError, match="crisis_lines.yaml.*default"):
        load_crisis_lines(tree)
