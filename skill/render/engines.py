"""Text-to-speech engines: one phrase in, encoded speech bytes out.

Two engines, chosen with ``--engine``:

* ``gtts`` (the default): Google Translate's voice through gTTS. Much less robotic than a
  formant synthesiser, needs the internet at build time (the skill never calls it). The
  accent follows the locale through gTTS's ``tld`` (en-GB is spoken by translate.google.co.uk).
* ``espeak``: espeak-ng, offline and deterministic; the voice of tests, CI and offline builds.

An engine's :meth:`~Engine.settings` are everything that changes the sound besides the text;
they are part of the phrase cache key, so changing a voice setting re-renders every phrase.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: gTTS's accent per locale (the Google Translate host that speaks it).
GTTS_TLD = {
    "en-US": "com",
    "en-GB": "co.uk",
    "en-AU": "com.au",
    "en-IN": "co.in",
    "en-CA": "ca",
}

#: espeak-ng voices per locale; espeak-ng has no Australian, Indian or Canadian English,
#: so those take the nearest it has.
ESPEAK_VOICE = {
    "en-US": "en-us",
    "en-GB": "en-gb",
    "en-AU": "en-gb",
    "en-IN": "en-gb",
    "en-CA": "en-us",
}


class EngineError(Exception):
    """The engine cannot render right now; ``str()`` is one line a person can act on."""


class Engine:
    """What the build needs from a text-to-speech engine."""

    name: str = ""
    #: How the bytes from :meth:`synthesize` are encoded (the cache file's suffix).
    suffix: str = ""
    #: How many phrases to render at once.
    concurrency: int = 1

    def settings(self, locale: str) -> dict:
        raise NotImplementedError

    def synthesize(self, text: str, locale: str) -> bytes:
        raise NotImplementedError


@dataclass
class Espeak(Engine):
    """espeak-ng, calm: 135 words a minute (its default is 175) and a slightly lower pitch.

    135 wpm is close to the 2.4 words a second the content's timing estimates assume, so
    text mode and rendered audio pace alike.
    """

    rate: int = 135
    pitch: int = 40
    word_gap: int = 1
    binary: str = "espeak-ng"
    name: str = "espeak"
    suffix: str = "wav"
    concurrency: int = field(default_factory=lambda: os.cpu_count() or 2)

    def voice(self, locale: str) -> str:
        return ESPEAK_VOICE.get(locale, locale.split("-")[0].lower())

    def settings(self, locale: str) -> dict:
        return {"voice": self.voice(locale), "rate": self.rate, "pitch": self.pitch,
                "word_gap": self.word_gap}

    def synthesize(self, text: str, locale: str) -> bytes:
        exe = shutil.which(self.binary)
        if exe is None:
            raise EngineError(
                f"{self.binary} is not installed (Debian/Ubuntu: apt-get install espeak-ng)"
            )
        args = [exe, "-v", self.voice(locale), "-s", str(self.rate), "-p", str(self.pitch),
                "-g", str(self.word_gap), "--stdout", "--", text]
        done = subprocess.run(args, capture_output=True, check=False)
        if done.returncode != 0 or not done.stdout:
            reason = done.stderr.decode("utf-8", "replace").strip() or "no audio"
            raise EngineError(f"espeak-ng failed on {text!r}: {reason}")
        return done.stdout


@dataclass
class Gtts(Engine):
    """gTTS, a few requests at a time, with retries and backoff on 429 and network errors.

    When Google stays unreachable the build stops with one line suggesting ``--engine
    espeak``. gTTS sends through ``requests`` with the environment's proxies, so a build
    behind a proxy works (and the tests stand in for Google behind a local one).
    """

    attempts: int = 4
    backoff: float = 1.0
    timeout: float = 15.0
    name: str = "gtts"
    suffix: str = "mp3"
    concurrency: int = 4
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)

    def tld(self, locale: str) -> str:
        return GTTS_TLD.get(locale, "com")

    def lang(self, locale: str) -> str:
        return locale.split("-")[0].lower()

    def settings(self, locale: str) -> dict:
        return {"lang": self.lang(locale), "tld": self.tld(locale), "slow": False}

    def synthesize(self, text: str, locale: str) -> bytes:
        import io

        from gtts import gTTS, gTTSError

        host = f"translate.google.{self.tld(locale)}"
        problem = ""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self._delay(attempt))
            buffer = io.BytesIO()
            try:
                speech = gTTS(text, tld=self.tld(locale), lang=self.lang(locale),
                              lang_check=False, timeout=self.timeout)
                speech.write_to_fp(buffer)
            except gTTSError as exc:
                status = getattr(getattr(exc, "rsp", None), "status_code", None)
                if status is None:
                    problem = "unreachable"
                elif status == 200:
                    problem = "an answer without audio"
                elif status == 429 or status >= 500:
                    problem = f"HTTP {status}"
                else:
                    raise EngineError(
                        f"{host} refused text-to-speech (HTTP {status}); "
                        "try again later, or build offline with --engine espeak"
                    ) from None
                continue
            data = buffer.getvalue()
            if data:
                return data
            problem = "an empty answer"
        if problem == "unreachable":
            raise EngineError(
                f"cannot reach Google text-to-speech at {host}: gTTS needs the internet; "
                "build offline with --engine espeak"
            )
        raise EngineError(
            f"Google text-to-speech at {host} kept answering {problem} after {self.attempts} "
            "tries; try again later, or build offline with --engine espeak"
        )

    def _delay(self, attempt: int) -> float:
        """Exponential backoff with jitter, so concurrent workers do not retry in step."""
        return self.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 2)


ENGINES = {"gtts": Gtts, "espeak": Espeak}


def make(name: str) -> Engine:
    try:
        return ENGINES[name]()
    except KeyError:
        raise EngineError(f"unknown engine {name!r} (choose {', '.join(ENGINES)})") from None
