"""Pre-rendered audio at run time: the manifest the build wrote, and the catalogs built on it.

The audio build (``skill/render/``) writes ``audio/manifest.json``::

    {"version": 1, "engine": "gtts", "built": "2026-11-27T10:00:00+00:00",
     "locales": {"en-US": {"pieces": {
         "messages.welcome": {"file": "3f2a...c1.mp3", "hash": "<sha256>", "seconds": 3.1,
                              "cues": []},
         "breathing.BOX.pace3.75.x4": {"file": "...", "hash": "...", "seconds": 64.0,
                                       "cues": [[0.0, "breathing.BOX.cue.inhale"], ...]}}}}}

Piece keys are speech-plan keys; ``cues`` are the onsets of the phrases inside a track (the
browser console animates a breathing circle with them). This module only reads it, and it
never trusts it: a missing or corrupt manifest means "no audio" with one warning, a bad entry
is dropped, and the skill speaks text for anything without audio.

URLs are resolved when a clip is asked for, not when the manifest is loaded, because the
default base (this server's ``/audio/``) depends on the request's host. A URL that is not
https is never handed out -- Alexa rejects the whole response for it, text is better --
except in dev mode for this machine's own loopback address, which no Echo can reach and
the browser console plays.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

from .speech import AudioCatalog, Clip, NoAudio

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"
#: Audio files are named by the first 16 hex digits of the SHA-256 of their bytes.
FILE_NAME = re.compile(r"[0-9a-f]{16}\.mp3")
_HASH = re.compile(r"[0-9a-f]{64}")
#: Alexa plays at most 240 s from one file.
MAX_SECONDS = 240.0

#: Environment variable naming another audio folder (default: ``audio/`` in the repository).
ENV_VAR = "BREATHING_ROOM_AUDIO"

#: Resolves an audio file name to the URL Alexa fetches it from (or None when it cannot).
UrlFor = Callable[[str], "str | None"]


def default_audio_dir() -> Path:
    """``$BREATHING_ROOM_AUDIO`` if set, else ``<repo>/audio`` next to the package."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "audio"


class ManifestError(ValueError):
    """The manifest cannot be used at all; ``str()`` says why in one line."""


@dataclass(frozen=True)
class Entry:
    """One rendered piece: its file, the SHA-256 of that file, length and inner cues."""

    file: str
    hash: str
    seconds: float
    cues: tuple[tuple[float, str], ...] = ()

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "hash": self.hash,
            "seconds": self.seconds,
            "cues": [[onset, key] for onset, key in self.cues],
        }


def _entry(raw: object) -> Entry:
    """An entry from JSON, or ValueError saying what is wrong with it."""
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    file, digest, seconds = raw.get("file"), raw.get("hash"), raw.get("seconds")
    if not isinstance(file, str) or not FILE_NAME.fullmatch(file):
        raise ValueError(f"file {file!r} is not <16 hex digits>.mp3")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest) or not file.startswith(
        digest[:16]
    ):
        raise ValueError(f"hash {digest!r} is not the SHA-256 its file is named after")
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
        or not 0 < seconds <= MAX_SECONDS
    ):
        raise ValueError(f"seconds {seconds!r} is not a length Alexa plays (0 to 240 s)")
    cues = []
    for cue in raw.get("cues") or ():
        if (
            not isinstance(cue, list | tuple)
            or len(cue) != 2
            or isinstance(cue[0], bool)
            or not isinstance(cue[0], int | float)
            or not isinstance(cue[1], str)
        ):
            raise ValueError(f"cue {cue!r} is not [seconds, key]")
        cues.append((float(cue[0]), cue[1]))
    return Entry(file, digest, float(seconds), tuple(cues))


@dataclass(frozen=True)
class Manifest:
    """The parsed manifest: per locale, plan key -> :class:`Entry`."""

    engine: str = ""
    built: str = ""
    locales: Mapping[str, Mapping[str, Entry]] = field(default_factory=dict)
    #: Entries that were dropped while parsing, as "locale key: reason" lines.
    dropped: tuple[str, ...] = ()

    @classmethod
    def parse(cls, data: object) -> Manifest:
        """Validate a manifest's JSON data; bad entries are dropped and listed in ``dropped``."""
        if not isinstance(data, dict):
            raise ManifestError("the manifest is not a JSON object")
        if data.get("version") != MANIFEST_VERSION:
            raise ManifestError(
                f"manifest version {data.get('version')!r} is not {MANIFEST_VERSION}; "
                "rebuild the audio with this version of breathing-room"
            )
        locales_raw = data.get("locales")
        if not isinstance(locales_raw, dict):
            raise ManifestError("the manifest has no 'locales' object")
        locales: dict[str, Mapping[str, Entry]] = {}
        dropped: list[str] = []
        for locale, body in locales_raw.items():
            pieces_raw = body.get("pieces") if isinstance(body, dict) else None
            if not isinstance(pieces_raw, dict):
                dropped.append(f"{locale}: no 'pieces' object")
                continue
            pieces: dict[str, Entry] = {}
            for key, raw in pieces_raw.items():
                try:
                    pieces[key] = _entry(raw)
                except ValueError as exc:
                    dropped.append(f"{locale} {key}: {exc}")
            locales[locale] = MappingProxyType(pieces)
        return cls(
            engine=str(data.get("engine", "")),
            built=str(data.get("built", "")),
            locales=MappingProxyType(locales),
            dropped=tuple(dropped),
        )

    @classmethod
    def read(cls, path: Path) -> Manifest:
        """Parse the manifest at ``path``; :class:`ManifestError` if it cannot be used."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ManifestError(f"{path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(f"cannot read {path}: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{path} is not valid JSON ({exc})") from None
        return cls.parse(data)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """The manifest at ``path``, or an empty one (the skill then speaks text).

        Never raises: the skill must start and speak without audio. A missing manifest is
        normal before the first build (logged at info); a broken one is a warning, once.
        """
        try:
            manifest = cls.read(path)
        except ManifestError as exc:
            missing = not Path(path).exists()
            log.log(
                logging.INFO if missing else logging.WARNING,
                "no pre-rendered audio (%s); speaking text. Build it with: "
                "breathing-room build-audio",
                exc,
            )
            return cls()
        if manifest.dropped:
            log.warning(
                "audio manifest %s: ignored %d bad entries (first: %s); they are spoken as "
                "text. Rebuild with: breathing-room build-audio",
                path, len(manifest.dropped), manifest.dropped[0],
            )
        return manifest

    def pieces(self, locale: str) -> Mapping[str, Entry]:
        return self.locales.get(locale, MappingProxyType({}))

    def keeping(self, keep: Callable[[Entry], bool]) -> Manifest:
        """This manifest with only the entries ``keep`` accepts (e.g. files present)."""
        locales = {
            locale: MappingProxyType({k: e for k, e in pieces.items() if keep(e)})
            for locale, pieces in self.locales.items()
        }
        return Manifest(self.engine, self.built, MappingProxyType(locales), self.dropped)

    def to_json(self) -> dict:
        return {
            "version": MANIFEST_VERSION,
            "engine": self.engine,
            "built": self.built,
            "locales": {
                locale: {"pieces": {key: entry.to_json() for key, entry in sorted(pieces.items())}}
                for locale, pieces in sorted(self.locales.items())
            },
        }

    def __len__(self) -> int:
        return sum(len(pieces) for pieces in self.locales.values())


def base_url_joiner(base: str) -> UrlFor:
    """URLs under a fixed public prefix (``AUDIO_BASE_URL``, e.g. a CDN)."""
    prefix = base.rstrip("/") + "/"
    return lambda name: prefix + name


class Catalog:
    """The clips of one locale, answering the speech layer's :class:`AudioCatalog` calls."""

    def __init__(self, pieces: Mapping[str, Entry], url_for: UrlFor, warn: Callable[[str], None],
                 loopback_http: bool = False):
        self._pieces = pieces
        self._url_for = url_for
        self._warn = warn
        self._loopback_http = loopback_http

    def clip(self, key: str) -> Clip | None:
        entry = self._pieces.get(key)
        if entry is None:
            return None
        url = self._url_for(entry.file)
        if not url or not (url.startswith("https://") or self._allowed_http(url)):
            self._warn(url or entry.file)
            return None
        return Clip(url, entry.seconds)

    def _allowed_http(self, url: str) -> bool:
        """Dev mode only: http from this machine, which only the local console can reach
        (an Echo never talks to a loopback server, so nothing Alexa sees changes)."""
        return self._loopback_http and urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


class AudioLibrary:
    """All locales' audio: hands the speech layer a catalog for a request's locale.

    ``url_for`` turns a file name into a URL when a clip is asked for (during the request),
    so a default base can follow the request's host. Non-https URLs are refused with one
    warning per process, and the piece is spoken as text instead.
    """

    def __init__(self, manifest: Manifest, url_for: UrlFor, *, loopback_http: bool = False
                 ) -> None:
        self.manifest = manifest
        self._url_for = url_for
        self._loopback_http = loopback_http
        self._warned = False

    def for_locale(self, locale: str) -> AudioCatalog:
        pieces = self.manifest.pieces(locale)
        if not pieces:
            return NoAudio()
        return Catalog(pieces, self._url_for, self._refuse, self._loopback_http)

    def _refuse(self, url: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning(
                "not playing pre-rendered audio from %s: Alexa only plays https URLs; "
                "speaking text instead. Set AUDIO_BASE_URL to your public https prefix.",
                url,
            )
