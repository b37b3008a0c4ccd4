"""Load ``content/<locale>/*.yaml`` into the frozen objects of :mod:`skill.content_model`.

Every word the person hears and every timing lives in YAML, written by people who should get
a precise answer when they make a mistake. So the loader walks the YAML *node* tree (not the
plain data) and every error names the file, the line and the dotted field path, e.g.::

    content/en-US/breathing.yaml:42: techniques.BOX.phases[1].seconds: must be a number of
    seconds between 1 and 20, got 'four'

Content is loaded once at start-up; :func:`load_content` is a pure function of the files.

Phrase keys are derived from position, so the audio build can enumerate and pre-render every
phrase and the speech layer can look each one up (field paths count from 0, the item number
in a guided-practice key counts from 1):

- ``messages.<name>``: messages.yaml
- ``breathing.<ID>.intro``, ``.outro``, ``.caution``, ``.cue.<phase name>``: breathing.yaml
- ``grounding.intro``, ``.outro``, ``.keep_going``, ``.<step id>.<n>`` (the n-th item of a
  step, from 1, when it says something): grounding.yaml; the same for ``self_compassion``
- ``reflection.intro``, ``.outro``, ``.prompt.<prompt id>``: reflection.yaml
- ``crisis.message``: crisis.yaml
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.constructor import SafeConstructor

from .content_model import (
    Content,
    Crisis,
    GuidedItem,
    GuidedPractice,
    GuidedStep,
    PaceRange,
    Phase,
    Phrase,
    Reflection,
    ReflectionPrompt,
    Reminder,
    Technique,
    Voice,
    frozen_mapping,
)

__all__ = [
    "ContentError",
    "ENV_VAR",
    "REFLECTION_THEMES",
    "REQUIRED_MESSAGES",
    "all_phrases",
    "default_content_root",
    "load_all",
    "load_content",
    "load_crisis_lines",
]

#: Environment variable that points the service at another content folder.
ENV_VAR = "BREATHING_ROOM_CONTENT"

#: The files of one locale, loaded in this order (voice first: the others are timed with it).
FILES = (
    "voice",
    "messages",
    "breathing",
    "grounding",
    "self_compassion",
    "reflection",
    "crisis",
    "reminder",
)

#: Crisis lines for locales served with another locale's words (en-GB hears en-US content
#: but must hear its own helpline), plus ``default`` for any locale not listed.
CRISIS_LINES_FILE = "crisis_lines.yaml"

#: Every name messages.yaml must define, and the only names it may define.
REQUIRED_MESSAGES: tuple[str, ...] = (
    "welcome",
    "welcome_back",
    "menu_question",
    "help",
    "help_in_exercise",
    "goodbye",
    "fallback",
    "fallback_in_exercise",
    "error",
    "paused",
    "nothing_to_resume",
    "resuming",
    "minutes_clamped_high",
    "minutes_clamped_low",
    "technique_unknown",
    "technique_question",
    "pace_slower",
    "pace_faster",
    "pace_at_slowest",
    "pace_at_fastest",
    "pace_fixed",
    "pace_not_breathing",
    "pace_not_here",
    "nothing_to_repeat",
    "start_over",
    "keep_going",
    "say_next",
    "next_not_in_exercise",
    "cycles_limited",
    "no_history",
    "stopped",
    "feedback_question",
    "feedback_unclear",
    "feedback_thanks",
    "feedback_thanks_not_really",
    "bridge_self_compassion",
    "bridge_reflection",
    "bridge_declined",
    "patterns_none",
    "patterns_too_few",
    "patterns_best",
    "patterns_nothing_stood_out",
    "patterns_night",
    "patterns_day",
    "patterns_offer",
    "welcome_offer",
    "reminder_time_question",
    "reminder_set",
    "reminder_permission",
    "reminder_busy",
    "reminder_failed",
    "reminder_cancelled",
    "reminder_none",
    "forget_confirm",
    "forget_done",
    "forget_kept",
    "holds_off",
    "dizzy",
)

#: Messages that are templates, and the placeholders each must use (filled at run time).
TEMPLATE_FIELDS: dict[str, tuple[str, ...]] = {
    "patterns_best": ("exercise", "helped", "times"),
    "patterns_night": ("exercise",),
    "patterns_day": ("exercise",),
    "patterns_offer": ("exercise",),
    "welcome_offer": ("exercise",),
    "reminder_set": ("time",),
}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

#: The themes a reflection prompt may have (from coping towards healing).
REFLECTION_THEMES: tuple[str, ...] = (
    "curiosity",
    "patterns",
    "core_beliefs",
    "feelings",
    "boundaries",
    "self_compassion",
    "patience",
)

MIN_PROMPTS = 30
PHASE_SECONDS = (1, 20)
PACE_BPM = (1, 20)
MAX_PACES = 20
MINUTES = (1, 10)
MAX_CYCLES = (1, 20)
PAUSE_SECONDS = (1, 60)
SILENCE_SECONDS = (10, 180)
WORDS_PER_SECOND = (1, 5)
RATE_PERCENT = (20, 200)
#: A guided step must fit one response (240 s of audio) with room for the words around it.
MAX_STEP_SECONDS = 200
#: A cue may take at most this share of its phase at the fastest pace, so it ends well
#: before the next cue.
CUE_SHARE = 0.75
#: Estimated length of the soft chime a guided item may end with.
TONE_SECONDS = 1.5

_SNAKE = re.compile(r"[a-z][a-z0-9_]*")
_UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9_]*")
_LOCALE = re.compile(r"[a-z]{2,3}-[A-Z]{2}")
_RATE_WORDS = ("x-slow", "slow", "medium", "fast", "x-fast")
_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class ContentError(Exception):
    """Content that cannot be used; ``str()`` is one line: ``path:line: field: problem``."""

    def __init__(self, path: str, line: int | None, field: str, problem: str) -> None:
        super().__init__(path, line, field, problem)
        self.path = path
        self.line = line
        self.field = field
        self.problem = " ".join(problem.split())

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return ": ".join(part for part in (where, self.field, self.problem) if part)


def default_content_root() -> Path:
    """``$BREATHING_ROOM_CONTENT`` if set, else ``<repo>/content`` next to the package."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "content"


def load_all(root: Path | None = None) -> dict[str, Content]:
    """Every locale folder under ``root`` (e.g. ``en-US``), loaded and validated."""
    root = Path(root) if root is not None else default_content_root()
    if not root.is_dir():
        raise ContentError(_display(root), None, "", "content folder not found")
    locales = []
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or folder.name.startswith((".", "_")):
            continue
        if not _LOCALE.fullmatch(folder.name):
            raise ContentError(
                _display(folder), None, "", "folder name is not a locale (expected e.g. en-US)"
            )
        locales.append(folder.name)
    if not locales:
        raise ContentError(_display(root), None, "", "no locale folders (expected e.g. en-US)")
    return {locale: load_content(locale, root) for locale in locales}


def load_content(locale: str = "en-US", root: Path | None = None) -> Content:
    """Load and validate one locale; raises :class:`ContentError` on the first problem."""
    root = Path(root) if root is not None else default_content_root()
    folder = root / locale
    if not folder.is_dir():
        raise ContentError(_display(folder), None, "", f"no content folder for locale {locale!r}")
    docs = {name: _read(folder / f"{name}.yaml") for name in FILES}
    phrases = _Phrases()
    voice = _voice(docs["voice"])
    messages = _messages(docs["messages"], phrases)
    techniques, default_technique = _breathing(docs["breathing"], phrases, voice)
    return Content(
        locale=locale,
        techniques=frozen_mapping(techniques),
        default_technique=default_technique,
        grounding=_guided("grounding", docs["grounding"], phrases, voice),
        self_compassion=_guided("self_compassion", docs["self_compassion"], phrases, voice),
        reflection=_reflection(docs["reflection"], phrases),
        messages=frozen_mapping(messages),
        crisis=_crisis(docs["crisis"], phrases, locale),
        voice=voice,
        reminder=_reminder(docs["reminder"], phrases),
    )


def load_crisis_lines(root: Path | None = None) -> dict[str, Crisis]:
    """Crisis lines by locale from ``crisis_lines.yaml`` (which must have ``default``)."""
    root = Path(root) if root is not None else default_content_root()
    at = _read(root / CRISIS_LINES_FILE)
    lines: dict[str, Crisis] = {}
    for locale, key_at, value_at in _pairs(at):
        if locale != "default" and not _LOCALE.fullmatch(locale):
            raise key_at.error(f"must be a locale like en-GB or 'default', got {locale!r}")
        lines[locale] = _crisis(value_at, _Phrases(), locale)
    if "default" not in lines:
        raise ContentError(at.file, at.line, "default", "missing: the line for other locales")
    return lines


def all_phrases(content: Content) -> dict[str, Phrase]:
    """Every phrase of ``content`` by key, in a stable order (for the audio build)."""
    found: list[Phrase] = list(content.messages.values())
    for technique in content.techniques.values():
        found += [technique.intro, *(phase.cue for phase in technique.phases), technique.outro]
        if technique.caution is not None:
            found.append(technique.caution)
    for practice in (content.grounding, content.self_compassion):
        found.append(practice.intro)
        found += [item.say for step in practice.steps for item in step.items if item.say]
        found += [practice.outro, practice.keep_going]
    reflection = content.reflection
    found += [reflection.intro, *(prompt.text for prompt in reflection.prompts), reflection.outro]
    found += [content.crisis.message, content.reminder.text]
    # Templates are filled at run time, so there is nothing fixed to pre-render.
    return {phrase.key: phrase for phrase in found if not phrase.fields}


# --- reading YAML nodes ---------------------------------------------------------------------


@dataclass(frozen=True)
class _At:
    """A YAML node together with where it is: display path and dotted field path."""

    file: str
    node: yaml.Node
    field: str

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1

    def error(self, problem: str) -> ContentError:
        return ContentError(self.file, self.line, self.field, problem)

    def key(self, name: str, node: yaml.Node) -> _At:
        return _At(self.file, node, f"{self.field}.{name}" if self.field else name)

    def index(self, i: int, node: yaml.Node) -> _At:
        return _At(self.file, node, f"{self.field}[{i}]")


def _display(path: Path) -> str:
    """The path as a person would type it: relative to the working folder when inside it."""
    try:
        absolute = path.absolute()
    except OSError:  # the working folder no longer exists
        return str(path)
    try:
        return str(absolute.relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(absolute)


def _read(path: Path) -> _At:
    shown = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(shown, None, "", "file not found") from None
    except UnicodeDecodeError as exc:
        raise ContentError(shown, None, "", f"not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise ContentError(shown, None, "", f"cannot read: {exc.strerror}") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = "; ".join(part for part in (exc.context, exc.problem) if part)
        raise ContentError(shown, line, "", f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ContentError(shown, None, "", f"invalid YAML: {exc}") from None
    if node is None:
        raise ContentError(shown, 1, "", "file is empty")
    return _At(shown, node, "")


def _value(at: _At) -> object:
    """The Python value of a scalar node, using YAML's safe types."""
    try:
        return SafeConstructor().construct_object(at.node)
    except yaml.YAMLError as exc:
        raise at.error(f"cannot read this value ({getattr(exc, 'problem', exc)})") from None


def _show(at: _At) -> str:
    """How to name a wrong value in an error: its YAML spelling, or what kind of thing it is."""
    if isinstance(at.node, yaml.MappingNode):
        return "a mapping"
    if isinstance(at.node, yaml.SequenceNode):
        return "a list"
    if at.node.tag == _NULL_TAG:
        return "nothing"
    if at.node.tag == _STR_TAG:
        return repr(at.node.value)
    return str(at.node.value)


def _is_null(at: _At) -> bool:
    return isinstance(at.node, yaml.ScalarNode) and at.node.tag == _NULL_TAG


def _pairs(at: _At) -> list[tuple[str, _At, _At]]:
    """(name, key, value) for each entry of a mapping, refusing duplicate and non-text keys."""
    if not isinstance(at.node, yaml.MappingNode):
        raise at.error(f"must be a mapping of names to values, got {_show(at)}")
    seen: dict[str, int] = {}
    out = []
    for key_node, value_node in at.node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
            bad = _At(at.file, key_node, at.field)
            raise bad.error(f"keys must be plain names, got {_show(bad)}")
        name = key_node.value
        key_at = at.key(name, key_node)
        if name in seen:
            raise key_at.error(f"duplicate key (first on line {seen[name]})")
        seen[name] = key_at.line
        out.append((name, key_at, at.key(name, value_node)))
    return out


def _fields(at: _At, required: Iterable[str], optional: Iterable[str] = ()) -> dict[str, _At]:
    """The values of a mapping with exactly these fields (optional ones may be left out)."""
    required, optional = tuple(required), tuple(optional)
    allowed = required + optional
    found: dict[str, _At] = {}
    for name, key_at, value_at in _pairs(at):
        if name not in allowed:
            raise key_at.error(_unknown("field", name, allowed))
        found[name] = value_at
    for name in required:
        if name not in found:
            field = f"{at.field}.{name}" if at.field else name
            raise ContentError(at.file, at.line, field, "missing required field")
    return found


def _unknown(what: str, name: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(allowed)}"
    return f"unknown {what} {name!r} ({hint})"


def _items(at: _At, minimum: int = 1) -> list[_At]:
    if not isinstance(at.node, yaml.SequenceNode):
        raise at.error(f"must be a list, got {_show(at)}")
    if len(at.node.value) < minimum:
        raise at.error(f"must list at least {minimum}, got {len(at.node.value)}")
    return [at.index(i, node) for i, node in enumerate(at.node.value)]


def _string(at: _At) -> str:
    """A plain, non-empty line of text (names, ids, citations); whitespace is collapsed."""
    if not isinstance(at.node, yaml.ScalarNode) or at.node.tag != _STR_TAG:
        quotable = isinstance(at.node, yaml.ScalarNode) and not _is_null(at)
        hint = " (put it in quotes)" if quotable else ""
        raise at.error(f"must be text, got {_show(at)}{hint}")
    text = " ".join(at.node.value.split())
    if not text:
        raise at.error("must not be empty")
    return text


def _text(at: _At) -> str:
    """Text that will be spoken or shown: as :func:`_string`, and free of markup."""
    text = _string(at)
    if "<" in text or ">" in text:
        raise at.error("must not contain '<' or '>': write plain text, the speech layer adds SSML")
    return text


def _identifier(at: _At, pattern: re.Pattern[str], example: str) -> str:
    name = _string(at)
    if not pattern.fullmatch(name):
        raise at.error(f"must be a name like {example}, got {name!r}")
    return name


def _number(at: _At, bounds: tuple[float, float], unit: str) -> float:
    low, high = bounds
    value = _value(at) if isinstance(at.node, yaml.ScalarNode) else None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise at.error(f"must be a number of {unit} between {low:g} and {high:g}, got {_show(at)}")
    return float(value)


def _whole(at: _At, bounds: tuple[int, int], unit: str) -> int:
    low, high = bounds
    value = _value(at) if isinstance(at.node, yaml.ScalarNode) else None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise at.error(
            f"must be a whole number of {unit} between {low} and {high}, got {_show(at)}"
        )
    return value


def _flag(at: _At) -> bool:
    value = _value(at) if isinstance(at.node, yaml.ScalarNode) else None
    if not isinstance(value, bool):
        raise at.error(f"must be true or false, got {_show(at)}")
    return value


def _speaking_seconds(text: str, voice: Voice) -> float:
    """Rough time to say ``text`` (the same estimate the routines use to time speech)."""
    words = len(text.split())
    return words / voice.words_per_second + 0.2 if words else 0.0


class _Phrases:
    """Makes phrases and checks that each key is used once across all files of a locale."""

    def __init__(self) -> None:
        self._seen: dict[str, _At] = {}

    def make(self, key: str, at: _At) -> Phrase:
        text = _text(at)
        first = self._seen.get(key)
        if first is not None:
            raise at.error(f"phrase key {key!r} is already used at {first.file}:{first.line}")
        self._seen[key] = at
        return Phrase(key, text)


# --- one builder per file -------------------------------------------------------------------


def _voice(at: _At) -> Voice:
    f = _fields(at, ("rate", "words_per_second"))
    rate = _string(f["rate"])
    percent = re.fullmatch(r"(\d+)%", rate)
    low, high = RATE_PERCENT
    if rate not in _RATE_WORDS and not (percent and low <= int(percent.group(1)) <= high):
        raise f["rate"].error(
            f"must be an SSML prosody rate: {low}% to {high}% or one of "
            f"{', '.join(_RATE_WORDS)}, got {rate!r}"
        )
    words = _number(f["words_per_second"], WORDS_PER_SECOND, "words per second")
    return Voice(rate=rate, words_per_second=words)


def _messages(at: _At, phrases: _Phrases) -> dict[str, Phrase]:
    found: dict[str, Phrase] = {}
    for name, key_at, value_at in _pairs(at):
        if name not in REQUIRED_MESSAGES:
            raise key_at.error(_unknown("message", name, REQUIRED_MESSAGES))
        phrase = phrases.make(f"messages.{name}", value_at)
        found[name] = _template(name, phrase, value_at)
    for name in REQUIRED_MESSAGES:
        if name not in found:
            raise ContentError(at.file, at.line, name, "missing required message")
    return {name: found[name] for name in REQUIRED_MESSAGES}


def _template(name: str, phrase: Phrase, at: _At) -> Phrase:
    """Check a message's ``{placeholders}`` against the ones it is declared to take."""
    expected = TEMPLATE_FIELDS.get(name, ())
    used = tuple(dict.fromkeys(_PLACEHOLDER.findall(phrase.text)))
    if "{" in _PLACEHOLDER.sub("", phrase.text) or "}" in _PLACEHOLDER.sub("", phrase.text):
        raise at.error("braces are only for placeholders like {exercise}")
    if set(used) != set(expected):
        want = ", ".join(f"{{{f}}}" for f in expected) or "no placeholders"
        raise at.error(f"must use {want}, got {', '.join(f'{{{u}}}' for u in used) or 'none'}")
    return Phrase(phrase.key, phrase.text, expected)


def _breathing(at: _At, phrases: _Phrases, voice: Voice) -> tuple[dict[str, Technique], str]:
    f = _fields(at, ("default_technique", "techniques"))
    techniques: dict[str, Technique] = {}
    for tid, key_at, value_at in _pairs(f["techniques"]):
        if not _UPPER_SNAKE.fullmatch(tid):
            raise key_at.error(f"technique ids are written like BOX or CYCLIC_SIGH, got {tid!r}")
        techniques[tid] = _technique(tid, value_at, phrases, voice)
    if not techniques:
        raise f["techniques"].error("must define at least one technique")
    default = _string(f["default_technique"])
    if default not in techniques:
        raise f["default_technique"].error(
            f"{default!r} is not a technique id (expected one of: {', '.join(techniques)})"
        )
    return techniques, default


def _technique(tid: str, at: _At, phrases: _Phrases, voice: Voice) -> Technique:
    f = _fields(
        at,
        (
            "name",
            "source",
            "intro",
            "outro",
            "caution",
            "default_minutes",
            "max_cycles",
            "pace",
            "phases",
        ),
    )
    prefix = f"breathing.{tid}"
    name = _text(f["name"])
    source = _string(f["source"])
    intro = phrases.make(f"{prefix}.intro", f["intro"])
    outro = phrases.make(f"{prefix}.outro", f["outro"])
    caution = None if _is_null(f["caution"]) else phrases.make(f"{prefix}.caution", f["caution"])
    phases = _phases(prefix, f["phases"], phrases)
    cycle = sum(phase.seconds for phase, _ in phases)
    pace = _pace(f["pace"], cycle)
    _check_phases_at_every_pace(phases, pace, voice)
    minutes = _number(f["default_minutes"], MINUTES, "minutes")
    max_cycles = None
    if not _is_null(f["max_cycles"]):
        max_cycles = _whole(f["max_cycles"], MAX_CYCLES, "rounds")
        longest = max_cycles * cycle / 60
        if minutes > longest + 1e-9:
            raise f["default_minutes"].error(
                f"must fit within max_cycles ({max_cycles} rounds of {cycle:g} s = "
                f"{longest:.2f} minutes), got {minutes:g}"
            )
    return Technique(
        id=tid,
        name=name,
        intro=intro,
        outro=outro,
        caution=caution,
        phases=tuple(phase for phase, _ in phases),
        pace=pace,
        max_cycles=max_cycles,
        default_minutes=minutes,
        source=source,
    )


def _phases(prefix: str, at: _At, phrases: _Phrases) -> list[tuple[Phase, dict[str, _At]]]:
    out: list[tuple[Phase, dict[str, _At]]] = []
    names: dict[str, int] = {}
    for item in _items(at, minimum=2):
        f = _fields(item, ("name", "seconds", "cue"), ("hold",))
        name = _identifier(f["name"], _SNAKE, "inhale or hold_full")
        if name in names:
            raise f["name"].error(
                f"duplicate phase name {name!r} (first on line {names[name]}); each phase "
                f"needs its own name because its cue key is {prefix}.cue.<name>"
            )
        names[name] = f["name"].line
        phase = Phase(
            name=name,
            seconds=_number(f["seconds"], PHASE_SECONDS, "seconds"),
            cue=phrases.make(f"{prefix}.cue.{name}", f["cue"]),
            hold=_flag(f["hold"]) if "hold" in f else False,
        )
        out.append((phase, f))
    return out


def _pace(at: _At, cycle: float) -> PaceRange:
    f = _fields(at, ("default", "min", "max", "step"))
    unit = "breaths per minute"
    default = _number(f["default"], PACE_BPM, unit)
    low = _number(f["min"], PACE_BPM, unit)
    high = _number(f["max"], PACE_BPM, unit)
    step = _number(f["step"], (0, PACE_BPM[1]), unit)
    expected = 60 / cycle
    if abs(default - expected) > 0.001:
        raise f["default"].error(
            f"must equal 60 / cycle length = 60 / {cycle:g} s = {round(expected, 3):g} "
            f"{unit}, got {default:g}"
        )
    if low > high:
        raise f["min"].error(f"must not be more than pace.max ({high:g}), got {low:g}")
    if not low <= default <= high:
        raise f["default"].error(
            f"must lie between pace.min ({low:g}) and pace.max ({high:g}), got {default:g}"
        )
    if low < high:
        if step <= 0:
            raise f["step"].error("must be more than 0 when pace.min and pace.max differ")
        count = (high - low) / step
        if abs(count - round(count)) > 1e-6:
            raise f["step"].error(
                f"must divide the range {low:g} to {high:g} into whole steps, got {step:g}"
            )
        if round(count) + 1 > MAX_PACES:
            raise f["step"].error(
                f"gives {round(count) + 1} paces; keep it to {MAX_PACES} or fewer, since "
                "the audio build renders every one"
            )
    pace = PaceRange(default=default, min=low, max=high, step=step)
    if not any(abs(value - default) < 0.001 for value in pace.values()):
        shown = ", ".join(f"{value:g}" for value in pace.values())
        raise f["default"].error(f"must be one of the allowed paces ({shown}), got {default:g}")
    return pace


def _check_phases_at_every_pace(
    phases: list[tuple[Phase, dict[str, _At]]], pace: PaceRange, voice: Voice
) -> None:
    """Each phase stays 1-20 s at every allowed pace, and its cue ends well inside it."""
    low, high = PHASE_SECONDS
    for phase, f in phases:
        shortest = phase.seconds * pace.default / pace.max
        longest = phase.seconds * pace.default / pace.min
        if shortest < low or longest > high:
            raise f["seconds"].error(
                f"would last {shortest:.2f} to {longest:.2f} s across the paces "
                f"{pace.min:g} to {pace.max:g} breaths per minute; keep every phase "
                f"between {low} and {high} s"
            )
        speaking = _speaking_seconds(phase.cue.text, voice)
        if speaking > CUE_SHARE * shortest:
            raise f["cue"].error(
                f"takes about {speaking:.1f} s to say, too long for a {shortest:.1f} s phase "
                f"at the fastest pace; keep a cue within {CUE_SHARE:.0%} of its phase"
            )


def _guided(pid: str, at: _At, phrases: _Phrases, voice: Voice) -> GuidedPractice:
    f = _fields(at, ("name", "intro", "steps", "outro", "keep_going"))
    name = _text(f["name"])
    intro = phrases.make(f"{pid}.intro", f["intro"])
    steps: list[GuidedStep] = []
    ids: dict[str, int] = {}
    for step_at in _items(f["steps"]):
        sf = _fields(step_at, ("id", "items"))
        sid = _identifier(sf["id"], _SNAKE, "see or not_alone")
        if sid in ids:
            raise sf["id"].error(f"duplicate step id {sid!r} (first on line {ids[sid]})")
        ids[sid] = sf["id"].line
        items = []
        for number, item_at in enumerate(_items(sf["items"]), start=1):
            itf = _fields(item_at, ("pause",), ("say", "tone"))
            say = None
            if "say" in itf and not _is_null(itf["say"]):
                say = phrases.make(f"{pid}.{sid}.{number}", itf["say"])
            pause = _number(itf["pause"], PAUSE_SECONDS, "seconds")
            tone = _flag(itf["tone"]) if "tone" in itf else False
            items.append(GuidedItem(say=say, pause=pause, tone=tone))
        seconds = sum(
            (_speaking_seconds(item.say.text, voice) if item.say else 0.0)
            + item.pause
            + (TONE_SECONDS if item.tone else 0.0)
            for item in items
        )
        if seconds > MAX_STEP_SECONDS:
            raise step_at.error(
                f"lasts about {seconds:.0f} s with its words and pauses; keep a step within "
                f"{MAX_STEP_SECONDS} s so it fits one response"
            )
        steps.append(GuidedStep(id=sid, items=tuple(items)))
    return GuidedPractice(
        id=pid,
        name=name,
        intro=intro,
        steps=tuple(steps),
        outro=phrases.make(f"{pid}.outro", f["outro"]),
        keep_going=phrases.make(f"{pid}.keep_going", f["keep_going"]),
    )


def _reflection(at: _At, phrases: _Phrases) -> Reflection:
    f = _fields(at, ("intro", "silence_seconds", "prompts", "outro"))
    intro = phrases.make("reflection.intro", f["intro"])
    silence = _number(f["silence_seconds"], SILENCE_SECONDS, "seconds")
    prompts: list[ReflectionPrompt] = []
    ids: dict[str, int] = {}
    for item in _items(f["prompts"]):
        pf = _fields(item, ("id", "theme", "text"))
        pid = _identifier(pf["id"], _SNAKE, "curious_not_critical")
        if pid in ids:
            raise pf["id"].error(f"duplicate prompt id {pid!r} (first on line {ids[pid]})")
        ids[pid] = pf["id"].line
        theme = _string(pf["theme"])
        if theme not in REFLECTION_THEMES:
            raise pf["theme"].error(_unknown("theme", theme, REFLECTION_THEMES))
        text = phrases.make(f"reflection.prompt.{pid}", pf["text"])
        prompts.append(ReflectionPrompt(id=pid, theme=theme, text=text))
    if len(prompts) < MIN_PROMPTS:
        raise f["prompts"].error(f"needs at least {MIN_PROMPTS} prompts, got {len(prompts)}")
    return Reflection(
        intro=intro,
        prompts=tuple(prompts),
        silence_seconds=silence,
        outro=phrases.make("reflection.outro", f["outro"]),
    )


def _crisis(at: _At, phrases: _Phrases, locale: str) -> Crisis:
    f = _fields(at, ("message", "card_title", "card_text", "source", "checked"))
    message = phrases.make(f"crisis.{locale}.message", f["message"])
    source = _string(f["source"])
    if not re.fullmatch(r"https://\S+", source):
        raise f["source"].error(f"must be an https:// address, got {source!r}")
    checked = _date(f["checked"], "the date the numbers were checked")
    return Crisis(
        message=message,
        card_title=_text(f["card_title"]),
        card_text=_text(f["card_text"]),
        source=source,
        checked=checked,
    )


def _reminder(at: _At, phrases: _Phrases) -> Reminder:
    f = _fields(at, ("text", "default_time_zone"))
    zone = _string(f["default_time_zone"])
    try:
        ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        raise f["default_time_zone"].error(
            f"must be an IANA time zone like America/New_York, got {zone!r}"
        ) from None
    return Reminder(text=phrases.make("reminder.text", f["text"]), default_time_zone=zone)


def _date(at: _At, what: str) -> str:
    """A YYYY-MM-DD date, quoted or not (YAML reads an unquoted one as a timestamp)."""
    node = at.node
    raw = ""
    if isinstance(node, yaml.ScalarNode) and node.tag in (_STR_TAG, _TIMESTAMP_TAG):
        raw = node.value
    try:
        valid = bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw)) and bool(date.fromisoformat(raw))
    except ValueError:
        valid = False
    if not valid:
        raise at.error(f"must be {what}, as YYYY-MM-DD, got {_show(at)}")
    return raw
