"""The dev console: ``GET /`` in ``serve --dev`` only, and the JSON routes its page uses.

The page (``skill/templates/console/index.html`` with ``skill/static/console/``) builds real
Alexa request envelopes in the browser and POSTs them to the same ``/alexa`` endpoint an Echo
uses; these routes only give it what a device would otherwise know:

- ``POST /console/api/match`` -- typed text -> intent and slots, by the same
  :class:`~skill.matcher.Matcher` as ``breathing-room chat``;
- ``GET /console/api/phases`` -- each technique's cue texts and keys -> phase kind (inhale,
  hold, exhale), seconds and how full the lungs are at its start and end, so the page can
  drive the breathing circle from text SSML;
- ``GET /console/api/cues`` -- for rendered audio, each file's cue onsets from
  ``audio/manifest.json`` (the same phases, by cue key), so the circle follows the audio;
- ``GET /console/api/state`` -- the stored record of one user id, via the store.

The blueprint is registered by :func:`skill.app.create_app` only when ``DEV`` is on, so none
of this exists in production (the stored-state route would otherwise be a privacy hole).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from ask_sdk_model import Context, RequestEnvelope
from ask_sdk_model.interfaces.system import SystemState
from ask_sdk_model.user import User
from flask import Blueprint, abort, current_app, jsonify, render_template, request

from .audio import MANIFEST_NAME, Manifest, ManifestError, default_audio_dir
from .content import all_phrases
from .content_model import Content, Technique
from .envelopes import DEV_SKILL_ID
from .matcher import Matcher
from .store import StoreUnavailable

log = logging.getLogger(__name__)

bp = Blueprint(
    "console",
    __name__,
    static_folder="static/console",
    static_url_path="/console/static",
    template_folder="templates",
)

def _service():
    return current_app.extensions["breathing_room"]


#: Alexa's English locales: the console offers them all, since the skill answers each (with
#: the default locale's words where there is no content folder, but the person's own crisis
#: line), and a content author should hear every one of them.
ENGLISH_LOCALES = ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")
_LOCALE = re.compile(r"[a-z]{2}-[A-Z]{2}")


def _locale() -> tuple[str, Content]:
    """The ``locale`` query/JSON parameter (default: the app's) and the content that answers
    it: its own, else the default locale's, as :class:`~skill.handlers.support.Runtime`."""
    body = request.get_json(silent=True) if request.is_json else None
    locale = (body if isinstance(body, dict) else {}).get("locale") or request.args.get("locale")
    locale = locale or current_app.config["DEFAULT_LOCALE"]
    if not isinstance(locale, str) or not _LOCALE.fullmatch(locale):
        abort(400, description=f"not a locale: {locale!r} (e.g. en-US)")
    content = _service().content
    return locale, content.get(locale) or content[current_app.config["DEFAULT_LOCALE"]]


# --- the page ------------------------------------------------------------------------------------


@bp.get("/")
def page():
    own = sorted(_service().content)
    return render_template(
        "console/index.html",
        locales=[(locale, True) for locale in own]
        + [(locale, False) for locale in ENGLISH_LOCALES if locale not in own],
        default_locale=current_app.config["DEFAULT_LOCALE"],
        console_config={"skill_id": current_app.config["ALEXA_SKILL_ID"] or DEV_SKILL_ID},
    )


# --- matching typed text -------------------------------------------------------------------------


def _matcher(locale: str) -> Matcher:
    """One matcher per locale, built on first use (it compiles every sample utterance)."""
    cache = current_app.extensions.setdefault("breathing_room_console", {})
    if locale not in cache:
        cache[locale] = Matcher.for_locale(locale, current_app.config["CONTENT_ROOT"])
    return cache[locale]


@bp.post("/console/api/match")
def match():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        abort(400, description='send JSON {"text": "...", "locale": "en-US"}')
    locale, content = _locale()
    found = _matcher(content.locale).match(body["text"])
    return jsonify(
        {
            "text": body["text"],
            "locale": locale,
            "kind": found.kind,
            "intent": found.intent,
            "slots": {
                name: {"value": slot.value, "id": slot.id} for name, slot in found.slots.items()
            },
            "score": found.score,
        }
    )


# --- breathing phases: what the circle does on each cue ------------------------------------------


def phase_kind(name: str, hold: bool) -> str:
    """``inhale``, ``hold`` or ``exhale`` for a phase (``top_up`` is a second inhale)."""
    if hold or name.startswith("hold"):
        return "hold"
    if "exhale" in name or name.startswith("out"):
        return "exhale"
    return "inhale"


def technique_phases(technique: Technique) -> list[dict]:
    """The phases of one cycle with the fullness of the lungs (0..1) at start and end.

    Inhales share the rise from empty to full in proportion to their seconds (so cyclic
    sighing's inhale fills most of the way and its top-up the rest), exhales share the fall,
    holds keep the level. The circle's size follows this level.
    """
    kinds = [phase_kind(p.name, p.hold) for p in technique.phases]
    rising = sum(p.seconds for p, k in zip(technique.phases, kinds, strict=True) if k == "inhale")
    falling = sum(p.seconds for p, k in zip(technique.phases, kinds, strict=True) if k == "exhale")
    level = 0.0
    out = []
    for phase, kind in zip(technique.phases, kinds, strict=True):
        start = level
        if kind == "inhale" and rising:
            level = min(1.0, level + phase.seconds / rising)
        elif kind == "exhale" and falling:
            level = max(0.0, level - phase.seconds / falling)
        out.append(
            {
                "name": phase.name,
                "kind": kind,
                "hold": phase.hold,
                "seconds": phase.seconds,
                "cue_key": phase.cue.key,
                "cue_text": phase.cue.text,
                "from": round(start, 3),
                "to": round(level, 3),
            }
        )
    return out


@bp.get("/console/api/phases")
def phases():
    locale, content = _locale()
    return jsonify(
        {
            "locale": locale,
            "voice": {
                "rate": content.voice.rate,
                "words_per_second": content.voice.words_per_second,
            },
            "techniques": {
                technique.id: {
                    "name": technique.name,
                    "pace": technique.pace.default,
                    "phases": technique_phases(technique),
                }
                for technique in content.techniques.values()
            },
        }
    )


# --- rendered audio: cue onsets per file ---------------------------------------------------------


def _manifest() -> Manifest | None:
    """The audio build's manifest, parsed as the skill parses it (bad entries dropped), or
    None when there is none or it cannot be used."""
    folder = current_app.config.get("AUDIO_DIR") or default_audio_dir()
    try:
        return Manifest.read(Path(folder) / MANIFEST_NAME)
    except ManifestError as exc:
        log.debug("console: no audio manifest: %s", exc)
        return None


@bp.get("/console/api/cues")
def cues():
    """Each rendered file of the locale: its plan key, length, words and cue onsets.

    Read from the manifest on every call (dev only), so a rebuild shows without a restart.
    """
    locale, content = _locale()
    manifest = _manifest()
    pieces = manifest.pieces(locale) if manifest is not None else {}
    by_cue = {
        phase["cue_key"]: phase
        for technique in content.techniques.values()
        for phase in technique_phases(technique)
    }
    phrases = all_phrases(content)
    files = {}
    for key, entry in pieces.items():
        onsets = []
        for at, cue_key in entry.cues:
            phase = by_cue.get(cue_key)
            onsets.append(
                {
                    "at": at,
                    "key": cue_key,
                    "kind": phase["kind"] if phase else None,
                    "from": phase["from"] if phase else None,
                    "to": phase["to"] if phase else None,
                    "text": phrases[cue_key].text if cue_key in phrases else None,
                }
            )
        files[entry.file] = {
            "key": key,
            "seconds": entry.seconds,
            "text": phrases[key].text if key in phrases else None,
            "cues": onsets,
        }
    return jsonify(
        {
            "locale": locale,
            "built": manifest is not None,
            "engine": manifest.engine if manifest is not None else None,
            "files": files,
        }
    )


# --- stored state --------------------------------------------------------------------------------


@bp.get("/console/api/state")
def state():
    """The stored record of ``?user=<Alexa user id>``, read through the store as a request
    from that user would read it (same hashing, same secret)."""
    user_id = request.args.get("user", "")
    if not user_id:
        abort(400, description="give ?user=<Alexa user id>")
    envelope = RequestEnvelope(context=Context(system=SystemState(user=User(user_id=user_id))))
    try:
        attributes = _service().store.get_attributes(envelope)
    except StoreUnavailable as exc:
        return jsonify({"attributes": None, "error": str(exc)}), 503
    return jsonify({"attributes": attributes})
