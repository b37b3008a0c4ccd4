"""Build the Alexa interaction model and skill manifest from the interaction_model.yaml content.

Build-time code: it turns what a person can say (written once, as content) into the ASK CLI
files under ``skill-package/``, and checks Alexa's utterance rules before Amazon's build does,
so a bad sample fails here with the intent and the utterance named. The terminal chat reads
the same source through :mod:`skill.matcher`. Never imported when serving (no flask here).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
CONTENT_ENV = "BREATHING_ROOM_CONTENT"
MODEL_FILE = "interaction_model.yaml"
DEFAULT_ENDPOINT = "https://example.com/alexa"
DEFAULT_OUT = REPO_ROOT / "skill-package"
PRIVACY_URL = "https://example.com/privacy"
TERMS_URL = "https://example.com/terms"

MAX_UTTERANCE_CHARS = 200
REMINDERS_PERMISSION = "alexa::alerts:reminders:skill:readwrite"
EVENT_SUBSCRIPTIONS = ("SKILL_DISABLED", "SKILL_PERMISSION_ACCEPTED", "SKILL_PERMISSION_CHANGED")
FALLBACK_INTENT = "AMAZON.FallbackIntent"

# A word: lowercase letters with inner apostrophes ("tonight's"), or one letter and a period
# as in a spelled abbreviation ("a. m.").
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*|[a-z]\.")
_SLOT_REF = re.compile(r"\{([A-Za-z][A-Za-z0-9_]*)\}")
_SLOT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CUSTOM_INTENT = re.compile(r"[A-Za-z][A-Za-z_]*")
_BUILTIN_INTENT = re.compile(r"AMAZON\.[A-Za-z]+")
_TYPE_NAME = re.compile(r"[A-Za-z][A-Za-z_]*")
_BUILTIN_TYPE = re.compile(r"AMAZON\.[A-Za-z_]+")
_VALUE_ID = re.compile(r"[A-Za-z0-9_]+")
_LAUNCH_WORDS = frozenset(
    "ask tell open launch load begin enable start run play resume use talk alexa amazon echo "
    "computer skill app".split()
)


class ModelError(Exception):
    """The interaction-model source breaks one of Alexa's rules (the message says where)."""


# --- loading -------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys and reads yes/no/on/off as words, not booleans.

    "no" and "yes" are things people say; YAML 1.1 would silently turn them into False/True.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _unique_mapping(loader: _Loader, node: yaml.MappingNode) -> dict:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise ModelError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def content_root(root: Path | str | None = None) -> Path:
    """The content folder: ``root``, else ``$BREATHING_ROOM_CONTENT``, else <repo>/content."""
    if root is not None:
        return Path(root)
    env = os.environ.get(CONTENT_ENV)
    return Path(env) if env else REPO_ROOT / "content"


def model_path(locale: str = "en-US", root: Path | str | None = None) -> Path:
    return content_root(root) / locale / MODEL_FILE


def available_locales(root: Path | str | None = None) -> tuple[str, ...]:
    """Locales that have an interaction model, sorted (so builds are deterministic)."""
    base = content_root(root)
    found = sorted(p.parent.name for p in base.glob(f"*/{MODEL_FILE}"))
    if not found:
        raise ModelError(f"{base}: no <locale>/{MODEL_FILE} found")
    return tuple(found)


def load_model_source(locale: str = "en-US", root: Path | str | None = None) -> dict:
    """Read ``content/<locale>/interaction_model.yaml`` as a plain dict (not yet validated)."""
    path = model_path(locale, root)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader
    except ModelError as exc:
        raise ModelError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ModelError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path}: expected a mapping at the top level")
    return data


# --- validation ----------------------------------------------------------------------------------


def normalize_whitespace(text: str) -> str:
    return " ".join(text.split())


def validate_phrase(text: Any, where: str, slots: Mapping[str, str] | None = None) -> str:
    """Check one utterance (or slot value) against Alexa's rules; return it whitespace-normalised.

    ``slots`` are the slots the intent declares; ``None`` means no slot references are allowed
    (slot values, chat phrases, the invocation name).
    """
    if not isinstance(text, str):
        raise ModelError(f"{where}: {text!r}: must be a string")
    phrase = normalize_whitespace(text)
    if not phrase:
        raise ModelError(f"{where}: empty utterance")
    if len(phrase) > MAX_UTTERANCE_CHARS:
        raise ModelError(
            f"{where}: {phrase!r}: longer than {MAX_UTTERANCE_CHARS} characters ({len(phrase)})"
        )
    used: set[str] = set()
    for token in phrase.split(" "):
        slot = _SLOT_REF.fullmatch(token)
        if slot:
            name = slot.group(1)
            if slots is None:
                raise ModelError(f"{where}: {phrase!r}: slot {{{name}}} not allowed here")
            if name not in slots:
                raise ModelError(f"{where}: {phrase!r}: slot {{{name}}} is not declared")
            if name in used:
                raise ModelError(f"{where}: {phrase!r}: slot {{{name}}} used twice")
            used.add(name)
        elif not _WORD.fullmatch(token):
            raise ModelError(f"{where}: {phrase!r}: {_why_bad(token)}")
    return phrase


def _why_bad(token: str) -> str:
    if any(c.isupper() for c in token):
        return f"{token!r} must be lowercase"
    if any(c.isdigit() for c in token):
        return f"{token!r}: numbers must be spelled out as words"
    if "{" in token or "}" in token:
        return f"{token!r} is not a slot reference like {{slotName}}"
    return f"{token!r}: no punctuation except apostrophes and periods in spelled abbreviations"


def _mapping(value: Any, where: str) -> Mapping:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ModelError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _sequence(value: Any, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ModelError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _check_keys(spec: Mapping, allowed: Iterable[str], where: str) -> None:
    unknown = sorted(set(spec) - set(allowed), key=str)
    if unknown:
        raise ModelError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")


def _invocation(source: Mapping) -> str:
    name = validate_phrase(source.get("invocation"), "invocation")
    words = name.split(" ")
    bad = sorted(set(words) & _LAUNCH_WORDS)
    if bad:
        raise ModelError(f"invocation: {name!r}: must not contain {', '.join(bad)}")
    return name


def _types(source: Mapping) -> dict[str, list[dict]]:
    """Validated custom slot types: name -> [{"id", "name": {"value", "synonyms"}}]."""
    out: dict[str, list[dict]] = {}
    for type_name, values in _mapping(source.get("types"), "types").items():
        where = f"slot type {type_name}"
        if not isinstance(type_name, str) or not _TYPE_NAME.fullmatch(type_name):
            raise ModelError(f"{where}: custom type names use letters and underscores only")
        entries = _sequence(values, where)
        if not entries:
            raise ModelError(f"{where}: has no values")
        seen_ids: set[str] = set()
        seen_words: dict[str, str] = {}
        converted = []
        for entry in entries:
            entry = _mapping(entry, where)
            _check_keys(entry, ("id", "value", "synonyms"), where)
            value_id = entry.get("id")
            if not isinstance(value_id, str) or not _VALUE_ID.fullmatch(value_id):
                raise ModelError(f"{where}: value id {value_id!r} must be letters, digits or _")
            if value_id in seen_ids:
                raise ModelError(f"{where}: duplicate id {value_id}")
            seen_ids.add(value_id)
            vwhere = f"{where} value {value_id}"
            value = validate_phrase(entry.get("value"), vwhere)
            synonyms = [
                validate_phrase(s, vwhere) for s in _sequence(entry.get("synonyms"), vwhere)
            ]
            for phrase in (value, *synonyms):
                if phrase in seen_words:
                    raise ModelError(
                        f"{vwhere}: {phrase!r} is already a value or synonym of "
                        f"{seen_words[phrase]}"
                    )
                seen_words[phrase] = value_id
            converted.append({"id": value_id, "name": {"value": value, "synonyms": synonyms}})
        out[type_name] = converted
    return out


def _intents(source: Mapping, types: Mapping[str, Any]) -> list[dict]:
    intents_src = _mapping(source.get("intents"), "intents")
    if not intents_src:
        raise ModelError("intents: none declared")
    seen: dict[str, str] = {}
    used_types: set[str] = set()
    out = []
    for name, spec in intents_src.items():
        where = f"intent {name}"
        builtin = isinstance(name, str) and name.startswith("AMAZON.")
        pattern = _BUILTIN_INTENT if builtin else _CUSTOM_INTENT
        if not isinstance(name, str) or not pattern.fullmatch(name):
            raise ModelError(f"{where}: invalid intent name")
        spec = _mapping(spec, where)
        _check_keys(spec, ("slots", "samples"), where)
        slots: dict[str, str] = {}
        for slot_name, slot_type in _mapping(spec.get("slots"), f"{where} slots").items():
            if not isinstance(slot_name, str) or not _SLOT_NAME.fullmatch(slot_name):
                raise ModelError(f"{where}: invalid slot name {slot_name!r}")
            if not isinstance(slot_type, str) or not (
                slot_type in types or _BUILTIN_TYPE.fullmatch(slot_type)
            ):
                raise ModelError(f"{where}: slot {slot_name}: unknown slot type {slot_type!r}")
            slots[slot_name] = slot_type
            used_types.add(slot_type)
        samples = []
        referenced: set[str] = set()
        for raw in _sequence(spec.get("samples"), f"{where} samples"):
            phrase = validate_phrase(raw, where, slots)
            if phrase in seen:
                other = seen[phrase]
                also = "twice" if other == name else f"also in {other}"
                raise ModelError(f"{where}: {phrase!r}: duplicate utterance ({also})")
            seen[phrase] = name
            referenced.update(_SLOT_REF.findall(phrase))
            samples.append(phrase)
        if not builtin and not samples:
            raise ModelError(f"{where}: needs at least one sample utterance")
        if name == FALLBACK_INTENT and samples:
            raise ModelError(f"{where}: must not have sample utterances")
        unused = [s for s in slots if s not in referenced]
        if unused:
            raise ModelError(f"{where}: slot(s) {', '.join(unused)} not used in any sample")
        intent: dict[str, Any] = {"name": name}
        if slots:
            intent["slots"] = [{"name": s, "type": t} for s, t in slots.items()]
        intent["samples"] = samples
        out.append(intent)
    unused_types = [t for t in types if t not in used_types]
    if unused_types:
        raise ModelError(f"slot type(s) {', '.join(unused_types)} not used by any intent")
    _check_chat_phrases(source, {i["name"] for i in out}, seen)
    return out


def _check_chat_phrases(
    source: Mapping, intent_names: set[str], samples: Mapping[str, str]
) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    seen = dict(samples)
    for name, phrases in _mapping(source.get("chat_phrases"), "chat_phrases").items():
        where = f"chat_phrases {name}"
        if name not in intent_names:
            raise ModelError(f"{where}: intent {name!r} is not declared under intents")
        if not str(name).startswith("AMAZON."):
            raise ModelError(f"{where}: only built-in intents take chat phrases")
        out[name] = []
        for raw in _sequence(phrases, where):
            phrase = validate_phrase(raw, f"intent {name} (chat phrase)")
            if phrase in seen:
                raise ModelError(
                    f"{where}: {phrase!r}: duplicate utterance (also in {seen[phrase]})"
                )
            seen[phrase] = name
            out[name].append(phrase)
    return out


def build_language_model(source: Mapping) -> dict:
    """Validate a model source (the YAML as a dict) and return Alexa's ``languageModel``."""
    _check_keys(source, ("invocation", "intents", "types", "chat_phrases", "publishing"), "model")
    invocation = _invocation(source)
    types = _types(source)
    intents = _intents(source, types)
    return {
        "invocationName": invocation,
        "intents": intents,
        "types": [{"name": name, "values": values} for name, values in types.items()],
    }


def chat_phrases(source: Mapping) -> dict[str, list[str]]:
    """The ``chat_phrases`` section: what Alexa already understands for each built-in intent."""
    model = build_language_model(source)
    seen = {s: i["name"] for i in model["intents"] for s in i["samples"]}
    return _check_chat_phrases(source, {i["name"] for i in model["intents"]}, seen)


def build_interaction_model(locale: str = "en-US", root: Path | str | None = None) -> dict:
    """``{"interactionModel": {"languageModel": ...}}`` for one locale, validated."""
    source = load_model_source(locale, root)
    try:
        language_model = build_language_model(source)
    except ModelError as exc:
        raise ModelError(f"{model_path(locale, root)}: {exc}") from None
    return {"interactionModel": {"languageModel": language_model}}


# --- manifest ------------------------------------------------------------------------------------


def _publishing(source: Mapping, locale: str, invocation: str, samples: set[str]) -> dict:
    where = f"{locale} publishing"
    pub = _mapping(source.get("publishing"), where)
    _check_keys(
        pub,
        ("name", "summary", "description", "example_phrases", "keywords", "testing_instructions"),
        where,
    )
    texts = {}
    for key, limit in (("name", 50), ("summary", 160), ("description", 4000)):
        value = pub.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ModelError(f"{where}: {key} is required")
        if len(value) > limit:
            raise ModelError(f"{where}: {key} longer than {limit} characters")
        texts[key] = normalize_whitespace(value)
    lowered = texts["description"].lower()
    for needed in ("not a substitute for professional", "emergency"):
        if needed not in lowered:
            raise ModelError(
                f"{where}: description must contain the health disclaimer ({needed!r})"
            )
    examples = [normalize_whitespace(str(e)) for e in _sequence(pub.get("example_phrases"), where)]
    if not 1 <= len(examples) <= 3:
        raise ModelError(f"{where}: example_phrases takes one to three phrases")
    for example in examples:
        _check_example(example, invocation, samples, where)
    keywords = [normalize_whitespace(str(k)) for k in _sequence(pub.get("keywords"), where)]
    return {
        "name": texts["name"],
        "summary": texts["summary"],
        "description": texts["description"],
        "examplePhrases": examples,
        "keywords": keywords,
        "testing_instructions": normalize_whitespace(str(pub.get("testing_instructions") or "")),
    }


def _check_example(example: str, invocation: str, samples: set[str], where: str) -> None:
    """Certification wants each example phrase to work: launch, or a one-shot of a real sample."""
    match = re.fullmatch(r"Alexa, (open|launch|ask|tell) ([a-z' .]+?)(?: (to|for) (.+))?", example)
    if not match or not match.group(2) == invocation:
        raise ModelError(f"{where}: {example!r}: must be 'Alexa, open {invocation}' or a one-shot")
    rest = match.group(4)
    if rest is not None and rest not in samples and f"{match.group(3)} {rest}" not in samples:
        raise ModelError(f"{where}: {example!r}: {rest!r} is not a sample utterance")


def _endpoint(uri: str) -> dict:
    if not isinstance(uri, str) or not re.fullmatch(r"https://[^\s/]+(/\S*)?", uri):
        raise ModelError(f"endpoint {uri!r}: Alexa needs an https:// URL")
    return {"uri": uri, "sslCertificateType": "Wildcard"}


def build_manifest(
    endpoint: str = DEFAULT_ENDPOINT,
    locales: Sequence[str] = ("en-US",),
    root: Path | str | None = None,
) -> dict:
    """``skill.json`` for a custom skill on an HTTPS endpoint; store text comes from content."""
    endpoint_spec = _endpoint(endpoint)
    published: dict[str, dict] = {}
    for locale in locales:
        source = load_model_source(locale, root)
        model = build_language_model(source)
        samples = {s for intent in model["intents"] for s in intent["samples"]}
        published[locale] = _publishing(source, locale, model["invocationName"], samples)
    if not published:
        raise ModelError("build_manifest: no locales")
    testing = next(
        (p["testing_instructions"] for p in published.values() if p["testing_instructions"]), ""
    )
    return {
        "manifest": {
            "manifestVersion": "1.0",
            "publishingInformation": {
                "locales": {
                    locale: {k: v for k, v in pub.items() if k != "testing_instructions"}
                    for locale, pub in published.items()
                },
                "isAvailableWorldwide": False,
                "distributionCountries": ["US"],
                "category": "HEALTH_AND_FITNESS",
                "testingInstructions": testing,
            },
            "apis": {"custom": {"endpoint": endpoint_spec, "interfaces": []}},
            "permissions": [{"name": REMINDERS_PERMISSION}],
            "events": {
                "endpoint": dict(endpoint_spec),
                "subscriptions": [{"eventName": name} for name in EVENT_SUBSCRIPTIONS],
            },
            "privacyAndCompliance": {
                "allowsPurchases": False,
                "usesPersonalInfo": False,
                "isChildDirected": False,
                "isExportCompliant": True,
                "containsAds": False,
                "locales": {
                    locale: {"privacyPolicyUrl": PRIVACY_URL, "termsOfUseUrl": TERMS_URL}
                    for locale in published
                },
            },
        }
    }


# --- skill package -------------------------------------------------------------------------------


def dump_json(data: Any) -> str:
    """The one JSON style for committed files, so a rebuild is byte-for-byte identical."""
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def committed_endpoint(out_dir: Path | str) -> str | None:
    """The endpoint in ``out_dir/skill.json``, if there is one (so rebuilds keep it)."""
    try:
        manifest = json.loads((Path(out_dir) / "skill.json").read_text(encoding="utf-8"))
        uri = manifest["manifest"]["apis"]["custom"]["endpoint"]["uri"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return uri if isinstance(uri, str) else None


def render_skill_package(
    endpoint: str = DEFAULT_ENDPOINT,
    locales: Sequence[str] | None = None,
    root: Path | str | None = None,
) -> dict[str, str]:
    """Every skill-package file as ``{relative path: text}``; builds all before writing any."""
    locales = tuple(locales) if locales is not None else available_locales(root)
    files = {"skill.json": dump_json(build_manifest(endpoint, locales, root))}
    for locale in locales:
        files[f"interactionModels/custom/{locale}.json"] = dump_json(
            build_interaction_model(locale, root)
        )
    return files


def write_skill_package(
    out_dir: Path | str,
    endpoint: str | None = None,
    locales: Sequence[str] | None = None,
    root: Path | str | None = None,
) -> list[Path]:
    """Write skill.json and interactionModels/custom/<locale>.json; return the paths written.

    With no ``endpoint`` the one already in ``out_dir/skill.json`` is kept (else a placeholder),
    so regenerating after a content change never loses the deployed URL.
    """
    out = Path(out_dir)
    if endpoint is None:
        endpoint = committed_endpoint(out) or DEFAULT_ENDPOINT
    files = render_skill_package(endpoint, locales, root)
    written = []
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def stale_files(out_dir: Path | str, endpoint: str | None = None) -> list[Path]:
    """Files under ``out_dir`` that differ from a fresh build (missing ones included)."""
    out = Path(out_dir)
    if endpoint is None:
        endpoint = committed_endpoint(out) or DEFAULT_ENDPOINT
    stale = []
    for relative, text in render_skill_package(endpoint).items():
        path = out / relative
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            stale.append(path)
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="breathing-room build-model",
        description="Generate skill-package/ from content/<locale>/interaction_model.yaml.",
    )
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        help="HTTPS skill endpoint (default: keep the one in skill.json, else a placeholder)",
    )
    parser.add_argument(
        "--out", metavar="DIR", type=Path, default=DEFAULT_OUT, help="skill-package folder"
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the files are out of date"
    )
    args = parser.parse_args(argv)
    try:
        if args.check:
            stale = stale_files(args.out, args.endpoint)
            for path in stale:
                print(f"out of date: {path}", file=sys.stderr)
            return 1 if stale else 0
        for path in write_skill_package(args.out, args.endpoint):
            print(f"wrote {path}")
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
