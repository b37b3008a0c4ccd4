"""Resolve typed text to an intent and slots, as Alexa would, for the terminal chat.

Alexa does this with a trained model; the chat only needs a fair imitation built from the same
sample utterances, so a person can try the skill without a device. Pure Python: no flask and
no ask_sdk here.

How it decides, in order:

1. Text and samples go through one normaliser (case, punctuation, digits to number words,
   contractions, filler words such as "please" or "um").
2. Safety first: a crisis sample found anywhere in the text, even inside a longer sentence and
   with a word or two inserted (but no negation), gives ``CrisisIntent``.
3. "open breathing room" launches; "ask breathing room to ..." is stripped to the "...".
4. A sample matching the whole text wins; else the sample found inside the text with the fewest
   extra words; else the best content-word overlap; below a threshold, the fallback intent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

FALLBACK_INTENT = "AMAZON.FallbackIntent"
CRISIS_INTENT = "CrisisIntent"

# A sample found inside the text counts when it covers at least this share of the words, or
# when every extra word is a stop word. Content-word overlap (Dice) below this gives fallback.
MIN_COVERAGE = 0.5
MIN_OVERLAP = 0.6
MAX_GAP_WORDS = 2

# --- numbers -------------------------------------------------------------------------------------

_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_UNIT_VALUE = {w: i for i, w in enumerate(_UNITS)}
_TENS_VALUE = {w: i * 10 for i, w in enumerate(_TENS) if i >= 2}
_NUMBER_WORDS = (*_UNITS, *_TENS[2:], "hundred", "thousand")


def number_to_words(n: int) -> str:
    """5 -> "five", 21 -> "twenty one", 150 -> "one hundred fifty" (how samples spell numbers)."""
    if n < 20:
        return _UNITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return _TENS[tens] + (f" {_UNITS[unit]}" if unit else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_UNITS[hundreds]} hundred" + (f" {number_to_words(rest)}" if rest else "")
    if n < 1_000_000:
        thousands, rest = divmod(n, 1000)
        head = f"{number_to_words(thousands)} thousand"
        return head + (f" {number_to_words(rest)}" if rest else "")
    return " ".join(_UNITS[int(d)] for d in str(n))


def words_to_number(words: Iterable[str]) -> int | None:
    """ "twenty one" -> 21; None when the words are not one well-formed number."""
    total = current = 0
    last = None  # the kind of the previous word: unit, teen, tens, hundred, thousand
    for word in words:
        if word == "and" and last in ("hundred", "thousand"):
            continue
        if word in _UNIT_VALUE:
            value = _UNIT_VALUE[word]
            kind = "unit" if value < 10 else "teen"
            if last in ("unit", "teen") or (last == "tens" and kind == "teen"):
                return None
            current += value
        elif word in _TENS_VALUE:
            if last in ("unit", "teen", "tens"):
                return None
            kind = "tens"
            current += _TENS_VALUE[word]
        elif word == "hundred":
            if last not in ("unit", "teen") or current % 100 == 0 or current >= 100:
                return None
            kind = "hundred"
            current *= 100
        elif word == "thousand":
            if last is None or last == "thousand" or total:
                return None
            kind = "thousand"
            total, current = current * 1000, 0
        else:
            return None
        last = kind
    if last is None:
        return None
    return total + current


# --- normalising ---------------------------------------------------------------------------------

_TOKEN = re.compile(r"\d{1,2}:\d{2}|\d+|[a-z]+(?:'[a-z]+)*")
_AM_PM = re.compile(r"\b([ap])\s*\.\s*m\b\.?")
_SLOT_TOKEN = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")

# One spelling for things people type several ways; applied to samples and input alike.
_SPELLINGS = {
    "im": "i'm", "ive": "i've", "id": "i'd", "dont": "don't", "cant": "can't", "cannot": "can't",
    "wont": "won't", "didnt": "didn't", "doesnt": "doesn't", "isnt": "isn't", "wasnt": "wasn't",
    "arent": "aren't", "couldnt": "couldn't", "shouldnt": "shouldn't", "wouldnt": "wouldn't",
    "youre": "you're", "thats": "that's", "whats": "what's", "lets": "let's", "its": "it's",
    "theres": "there's", "tonights": "tonight's", "todays": "today's", "oclock": "o'clock",
    "okay": "ok", "alright": "ok", "minute": "minutes", "favourite": "favorite",
    "spiralling": "spiraling", "gonna": "going to", "wanna": "want to", "gotta": "got to",
}  # fmt: skip
_PAIRS = {
    ("i", "am"): "i'm", ("i", "have"): "i've", ("i", "would"): "i'd", ("do", "not"): "don't",
    ("can", "not"): "can't", ("will", "not"): "won't", ("is", "not"): "isn't",
    ("does", "not"): "doesn't", ("did", "not"): "didn't", ("it", "is"): "it's",
    ("that", "is"): "that's", ("what", "is"): "what's", ("there", "is"): "there's",
    ("let", "us"): "let's", ("o", "clock"): "o'clock", ("a", "m"): "am", ("p", "m"): "pm",
}  # fmt: skip
_FILLERS = frozenset("please um umm uh uhh er erm hmm hm alexa hey".split())
_LEAD_INS = (
    ("can", "you"), ("could", "you"), ("would", "you"), ("will", "you"), ("can", "we"),
    ("could", "we"), ("i", "want", "you", "to"), ("i'd", "like", "you", "to"), ("so",), ("and",),
    ("well",),
)  # fmt: skip
_TAILS = (("thanks",), ("thank", "you"))
_NEGATION = r"(?:not|no|never|\S*n't)"
# Words that carry little meaning on their own: extra stop words do not count against a sample
# found inside the text, and they are left out of the overlap score.
_STOP_WORDS = frozenset(
    """a an the i me my to for of some really just so with and or in on at it it's this that
    that's is are was be am i'm i'd i've you your can could would will do does want like need
    now ok well maybe think kind sort right very too bit let's get go""".split()
)


def _canonical(tokens: list[str]) -> list[str]:
    spelled: list[str] = []
    for token in tokens:
        spelled.extend(_SPELLINGS.get(token, token).split())
    out: list[str] = []
    i = 0
    while i < len(spelled):
        pair = tuple(spelled[i : i + 2])
        if pair in _PAIRS:
            out.append(_PAIRS[pair])
            i += 2
        else:
            out.append(spelled[i])
            i += 1
    return [t for t in out if t not in _FILLERS]


def _strip_wrapping(tokens: list[str]) -> list[str]:
    """Drop polite lead-ins ("can you ...") and tails ("... thanks") when words remain."""
    changed = True
    while changed:
        changed = False
        for lead in _LEAD_INS:
            n = len(lead)
            if len(tokens) > n and tuple(tokens[:n]) == lead:
                tokens, changed = tokens[n:], True
        for tail in _TAILS:
            n = len(tail)
            if len(tokens) > n and tuple(tokens[-n:]) == tail:
                tokens, changed = tokens[:-n], True
    return tokens


def _split_text(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = _AM_PM.sub(r"\1m", text)
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        tokens.extend(number_to_words(int(token)).split() if token.isdigit() else [token])
    return tokens


def normalize(text: str) -> list[str]:
    """Typed text -> the tokens samples are matched against."""
    return _strip_wrapping(_canonical(_split_text(text)))


def _normalize_sample(sample: str) -> list[str]:
    """Like :func:`normalize`, but ``{slot}`` references survive as single tokens."""
    tokens: list[str] = []
    run: list[str] = []
    for piece in sample.split():
        if _SLOT_TOKEN.fullmatch(piece):
            tokens.extend(_canonical(run))
            run = []
            tokens.append(piece)
        else:
            run.extend(_split_text(piece))
    tokens.extend(_canonical(run))
    return _strip_wrapping(tokens)


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _content(tokens: Iterable[str]) -> set[str]:
    return {_stem(t) for t in tokens if t not in _STOP_WORDS}


# --- times (AMAZON.TIME) -------------------------------------------------------------------------

_HOURS = {w: i for i, w in enumerate(_UNITS) if 1 <= i <= 12}
_HOUR_RX = "|".join(sorted(_HOURS, key=len, reverse=True))
_MINUTE_RX = (
    r"(?:oh (?:one|two|three|four|five|six|seven|eight|nine)"
    r"|(?:twenty|thirty|forty|fifty)(?: (?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
)
_PERIOD_RX = r"(?:am|pm|in the morning|in the afternoon|in the evening|at night|tonight)"
_TIME_RX = (
    rf"(?:\d{{1,2}}:\d{{2}}(?: {_PERIOD_RX})?"
    rf"|(?:half|quarter) past (?:{_HOUR_RX})(?: {_PERIOD_RX})?"
    rf"|quarter to (?:{_HOUR_RX})(?: {_PERIOD_RX})?"
    rf"|(?:{_HOUR_RX})(?: o'clock| {_MINUTE_RX})?(?: {_PERIOD_RX})?"
    r"|noon|midday|midnight|morning|afternoon|evening|night|tonight)"
)
_PARTS_OF_DAY = {
    "morning": "MO",
    "afternoon": "AF",
    "evening": "EV",
    "night": "NI",
    "tonight": "NI",
}
_LATE = frozenset("pm afternoon evening night tonight nightly bedtime".split())
_EARLY = frozenset("am morning".split())


def parse_time(phrase: str, context: Iterable[str] = ()) -> str | None:
    """A spoken time -> Alexa's AMAZON.TIME value ("21:00", or "MO"/"AF"/"EV"/"NI").

    A bare hour ("nine") takes the evening when the rest of the utterance speaks of night or
    evening ("remind me every night at nine"), else it is read as said ("09:00").
    """
    words = phrase.split()
    if phrase in _PARTS_OF_DAY:
        return _PARTS_OF_DAY[phrase]
    if phrase in ("noon", "midday"):
        return "12:00"
    if phrase == "midnight":
        return "00:00"
    period = next((w for w in words if w in _LATE | _EARLY), None)
    if ":" in words[0]:
        hour, minute = (int(part) for part in words[0].split(":"))
    elif words[0] in ("half", "quarter"):
        hour, minute = _HOURS[words[2]], 30 if words[0] == "half" else 15
        if words[1] == "to":
            hour, minute = (hour - 1) % 12 or 12, 45
    else:
        hour, minute = _HOURS[words[0]], 0
        rest = [w for w in words[1:] if w not in ("o'clock", "oh") and w not in _LATE | _EARLY]
        rest = [w for w in rest if w not in ("in", "the", "at")]
        if rest:
            minute = words_to_number(rest) or 0
    if hour > 23 or minute > 59:
        return None
    if period is None and 1 <= hour <= 11:
        context = set(context)
        if context & _LATE:
            period = "pm"
        elif context & _EARLY:
            period = "am"
    if period in _LATE and hour < 12:
        hour += 12
    elif period in _LATE and hour == 12 and period in ("night", "tonight"):
        hour = 0
    elif period in _EARLY and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}"


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotValue:
    """A filled slot: ``value`` as Alexa would send it; ``id`` when a custom value matched."""

    name: str
    value: str
    id: str | None = None


@dataclass(frozen=True)
class Match:
    """What was said: ``launch`` (open the skill), ``intent`` (with ``intent`` and ``slots``), or
    ``end`` (nothing at all). ``score`` is 1.0 for a whole-utterance match, less when guessed."""

    kind: Literal["launch", "intent", "end"]
    intent: str | None
    slots: dict[str, SlotValue] = field(default_factory=dict)
    score: float = 0.0


@dataclass(frozen=True)
class _SlotSpec:
    name: str
    type: str
    pattern: str


@dataclass(frozen=True)
class _Sample:
    intent: str
    text: str
    index: int
    literal: int  # literal (non-slot) tokens
    slots: tuple[_SlotSpec, ...]
    full: re.Pattern[str]
    inside: re.Pattern[str]
    content: frozenset[str]


class Matcher:
    """Utterance -> :class:`Match`, built from an Alexa ``languageModel`` dict."""

    def __init__(
        self,
        invocation: str,
        samples: list[tuple[str, str]],
        slot_types: Mapping[str, Mapping[str, str]],
        values: Mapping[str, Mapping[str, tuple[str, str]]],
        type_patterns: Mapping[str, str],
        intents: Iterable[str] = (),
    ) -> None:
        self.invocation = " ".join(normalize(invocation))
        self.intents: tuple[str, ...] = tuple(
            dict.fromkeys([*intents, *(i for i, _ in samples), FALLBACK_INTENT])
        )
        self.conflicts: list[tuple[str, str, str]] = []  # (utterance, intent, other intent)
        self._values = values  # slot type -> {normalised phrase: (value as written, id)}
        self._type_patterns = type_patterns
        self._samples: list[_Sample] = []
        seen: dict[tuple[str, ...], str] = {}
        for intent, text in samples:
            tokens = _normalize_sample(text)
            key = tuple(tokens)
            if key in seen:
                if seen[key] != intent:
                    self.conflicts.append((text, intent, seen[key]))
                continue
            seen[key] = intent
            if tokens:
                self._samples.append(
                    self._compile(intent, text, tokens, slot_types.get(intent, {}))
                )
        inv = re.escape(self.invocation)
        verbs = "open|open up|launch|start|begin|load|run|play|use|talk to|speak to|ask|tell"
        self._launch = re.compile(rf"(?:(?:{verbs}) )?{inv}")
        self._one_shot = re.compile(
            rf"(?:(?:ask|tell|open|launch|start|use|have|load|run|talk to|speak to) )?{inv}"
            rf"(?: (?:to|for|about|if|whether|and|that))? (?P<rest>.+)"
            rf"|(?P<before>.+?) (?:with|using|on|from|in|via) {inv}"
        )

    # -- construction

    @classmethod
    def from_model(
        cls, language_model: Mapping, chat_phrases: Mapping[str, list[str]] | None = None
    ) -> Matcher:
        values: dict[str, dict[str, tuple[str, str]]] = {}
        type_patterns: dict[str, str] = {
            "AMAZON.NUMBER": _number_pattern(),
            "AMAZON.TIME": _TIME_RX,
        }
        for slot_type in language_model.get("types", ()):
            table: dict[str, tuple[str, str]] = {}
            for entry in slot_type.get("values", ()):
                name = entry["name"]
                for phrase in (name["value"], *name.get("synonyms", ())):
                    table.setdefault(" ".join(normalize(phrase)), (phrase, entry.get("id")))
            values[slot_type["name"]] = table
            alternatives = sorted((p for p in table if p), key=lambda p: (-len(p.split()), -len(p)))
            type_patterns[slot_type["name"]] = "(?:" + "|".join(map(re.escape, alternatives)) + ")"
        samples: list[tuple[str, str]] = []
        slot_types: dict[str, dict[str, str]] = {}
        for intent in language_model.get("intents", ()):
            slot_types[intent["name"]] = {s["name"]: s["type"] for s in intent.get("slots", ())}
            samples.extend((intent["name"], s) for s in intent.get("samples", ()))
        for intent, phrases in (chat_phrases or {}).items():
            samples.extend((intent, p) for p in phrases)
        return cls(
            language_model["invocationName"],
            samples,
            slot_types,
            values,
            type_patterns,
            intents=slot_types,
        )

    @classmethod
    def for_locale(cls, locale: str = "en-US", root: Path | str | None = None) -> Matcher:
        """Build from ``content/<locale>/interaction_model.yaml`` (samples and chat phrases)."""
        from skill import interaction_model as im

        source = im.load_model_source(locale, root)
        model = im.build_language_model(source)
        return cls.from_model(model, im.chat_phrases(source))

    def _compile(
        self, intent: str, text: str, tokens: list[str], slot_types: Mapping[str, str]
    ) -> _Sample:
        parts: list[str] = []
        slots: list[_SlotSpec] = []
        for token in tokens:
            ref = _SLOT_TOKEN.fullmatch(token)
            if ref:
                name = ref.group(1)
                slot_type = slot_types.get(name, "")
                pattern = self._type_patterns.get(slot_type, r"\S+(?: \S+){0,3}?")
                slots.append(_SlotSpec(name, slot_type, pattern))
                parts.append(f"(?P<{name}>{pattern})")
            else:
                parts.append(re.escape(token))
        literals = [t for t in tokens if not _SLOT_TOKEN.fullmatch(t)]
        content = _content(literals) | {f"{{{s.type}}}" for s in slots if s.type in self._values}
        return _Sample(
            intent=intent,
            text=text,
            index=len(self._samples),
            literal=len(literals),
            slots=tuple(slots),
            full=re.compile(" ".join(parts)),
            inside=re.compile(r"(?<!\S)" + _join_with_gaps(parts) + r"(?!\S)"),
            content=frozenset(content),
        )

    # -- matching

    def match(self, text: str) -> Match:
        raw = _split_text(text or "")
        if not raw:
            return Match("end", None, {}, 1.0)
        tokens = _strip_wrapping(_canonical(raw))
        if not tokens:
            return Match("intent", FALLBACK_INTENT, {}, 0.0)
        crisis = self._crisis(tokens)
        if crisis is not None:
            return crisis
        joined = " ".join(tokens)
        if self._launch.fullmatch(joined):
            return Match("launch", None, {}, 1.0)
        one_shot = self._one_shot.fullmatch(joined)
        if one_shot:
            rest = one_shot.group("rest") or one_shot.group("before")
            tokens = _strip_wrapping(rest.split())
            if not tokens or tokens[0] in ("to", "for", "about", "and"):
                tokens = tokens[1:]
            if not tokens:
                return Match("launch", None, {}, 1.0)
        return self._match_tokens(tokens)

    def _crisis(self, tokens: list[str]) -> Match | None:
        """Safety first: a crisis sample anywhere in the text wins over everything else."""
        joined = " ".join(tokens)
        for sample in self._samples:
            if sample.intent == CRISIS_INTENT:
                found = sample.inside.search(joined)
                if found:
                    slots = self._slots(sample, found, tokens) or {}
                    return Match("intent", CRISIS_INTENT, slots, 1.0)
        return None

    def _match_tokens(self, tokens: list[str]) -> Match:
        joined = " ".join(tokens)
        total = len(tokens)
        full = []
        for sample in self._samples:
            found = sample.full.fullmatch(joined)
            if found:
                slots = self._slots(sample, found, tokens)
                if slots is not None:
                    full.append(((sample.literal, len(slots), -sample.index), sample, slots))
        if full:
            _, sample, slots = max(full, key=lambda c: c[0])
            return Match("intent", sample.intent, slots, 1.0)

        inside = []
        for sample in self._samples:
            if not sample.literal:
                continue  # a bare "{time}" or "{pace}" must be all that was said
            found = sample.inside.search(joined)
            if not found:
                continue
            slots = self._slots(sample, found, tokens)
            if slots is None:
                continue
            gaps = [
                w for g in range(len(sample.slots) + sample.literal - 1) for w in _group(found, g)
            ]
            extra = joined[: found.start()].split() + gaps + joined[found.end() :].split()
            content_extra = [w for w in extra if w not in _STOP_WORDS]
            if (total - len(extra)) / total >= MIN_COVERAGE or not content_extra:
                rank = (len(extra), -len(slots), -sample.literal, sample.index)
                inside.append((rank, sample, slots))
        if inside:
            rank, sample, slots = min(inside, key=lambda c: c[0])
            return Match("intent", sample.intent, slots, round((total - rank[0]) / total, 3))

        return self._overlap(tokens)

    def _overlap(self, tokens: list[str]) -> Match:
        """Last resort: the sample sharing the most content words (Dice), else fallback."""
        joined = " ".join(tokens)
        words = list(tokens)
        placeholders = set()
        for slot_type, pattern in self._type_patterns.items():
            if slot_type not in self._values:
                continue
            found = re.search(rf"(?<!\S){pattern}(?!\S)", joined)
            if found:
                placeholders.add(f"{{{slot_type}}}")
                for word in found.group(0).split():
                    if word in words:
                        words.remove(word)
        heard = _content(words) | placeholders
        best_score, best = 0.0, None
        for sample in self._samples:
            if not sample.content or not heard:
                continue
            score = 2 * len(heard & sample.content) / (len(heard) + len(sample.content))
            if score > best_score:
                best_score, best = score, sample
        if best is None or best_score < MIN_OVERLAP:
            return Match("intent", FALLBACK_INTENT, {}, round(best_score, 3))
        slots = {}
        for spec in best.slots:  # custom slot values only: they are distinctive
            found = re.search(rf"(?<!\S){spec.pattern}(?!\S)", joined)
            if spec.type in self._values and found:
                slots[spec.name] = self._slot_value(spec, found.group(0), tokens)
        return Match("intent", best.intent, slots, round(best_score, 3))

    # -- slots

    def _slots(
        self, sample: _Sample, found: re.Match[str], tokens: list[str]
    ) -> dict[str, SlotValue] | None:
        """Slot values of one regex match; None if a value does not parse (e.g. a bad number)."""
        slots = {}
        for spec in sample.slots:
            value = self._slot_value(spec, found.group(spec.name), tokens)
            if value is None:
                return None
            slots[spec.name] = value
        return slots

    def _slot_value(self, spec: _SlotSpec, heard: str, tokens: list[str]) -> SlotValue | None:
        """Alexa's value for a slot: written value and id, digits, HH:MM; else as heard."""
        if spec.type in self._values:
            written, value_id = self._values[spec.type][heard]
            return SlotValue(spec.name, written, value_id)
        if spec.type == "AMAZON.NUMBER":
            number = words_to_number(heard.split())
            return None if number is None else SlotValue(spec.name, str(number))
        if spec.type == "AMAZON.TIME":
            time = parse_time(heard, tokens)
            return None if time is None else SlotValue(spec.name, time)
        return SlotValue(spec.name, heard)


def _number_pattern() -> str:
    words = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    return rf"(?:{words})(?: (?:and )?(?:{words}))*"


def _join_with_gaps(parts: list[str]) -> str:
    """Join regex parts allowing a few inserted words (never a negation) between them.

    Each gap is a named group ``_g<n>`` so the inserted words can be counted as extra words.
    """
    out = parts[0]
    for n, part in enumerate(parts[1:]):
        out += rf" (?P<_g{n}>(?:(?!{_NEGATION} )\S+ ){{0,{MAX_GAP_WORDS}}}?){part}"
    return out


def _group(found: re.Match[str], n: int) -> list[str]:
    text = found.group(f"_g{n}")
    return text.split() if text else []
