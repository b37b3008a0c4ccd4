"""One checker for every response a test sees: Alexa's limits from ../shared/DESIGN.md.

A response that breaks any of these makes a real device say "There was a problem with the
requested skill's response", so no test may see one.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

MAX_RESPONSE_BYTES = 120 * 1024
MAX_SSML_CHARS = 8000
MAX_BREAK_MS = 10_000
MAX_AUDIO_TAGS = 5
ALLOWED_TAGS = {
    "speak", "audio", "break", "emphasis", "lang", "p", "phoneme", "prosody", "s",
    "say-as", "sub", "voice", "w",
}


def _break_ms(value: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s)", value)
    assert match, f"bad break time {value!r}"
    amount = float(match.group(1))
    return amount if match.group(2) == "ms" else amount * 1000


def check_ssml(ssml: str, *, audio_durations: dict[str, float] | None = None,
               audio_limit: float = 240.0) -> None:
    assert ssml.startswith("<speak>") and ssml.endswith("</speak>"), ssml[:80]
    assert len(ssml) < MAX_SSML_CHARS, f"SSML has {len(ssml)} characters"
    root = ET.fromstring(ssml)  # well-formed XML, escaping included
    audio = 0
    seconds = 0.0
    for element in root.iter():
        assert element.tag in ALLOWED_TAGS, f"unsupported SSML tag <{element.tag}>"
        if element.tag == "break":
            assert set(element.attrib) <= {"time", "strength"}, element.attrib
            if "time" in element.attrib:
                assert _break_ms(element.attrib["time"]) <= MAX_BREAK_MS
        if element.tag == "audio":
            audio += 1
            src = element.attrib["src"]
            assert src.startswith("https://"), f"audio must be https: {src}"
            if audio_durations is not None:
                seconds += audio_durations[src]
    assert audio <= MAX_AUDIO_TAGS, f"{audio} <audio> tags"
    assert seconds <= audio_limit, f"{seconds} s of audio in one response"


def check_response(envelope: dict, **audio) -> None:
    """Assert ``envelope`` (a parsed response) is one Alexa would accept."""
    raw = json.dumps(envelope).encode()
    assert len(raw) < MAX_RESPONSE_BYTES, f"response is {len(raw)} bytes"
    assert envelope.get("version") == "1.0"
    body = envelope["response"]
    speech = body.get("outputSpeech")
    if speech:
        assert speech["type"] == "SSML"
        check_ssml(speech["ssml"], **audio)
    reprompt = body.get("reprompt")
    if reprompt:
        check_ssml(reprompt["outputSpeech"]["ssml"], audio_durations=audio.get(
            "audio_durations"), audio_limit=90.0)
    if body.get("shouldEndSession") is False:
        # Never an open microphone without a question.
        assert reprompt, "session left open without a reprompt"
        assert speech, "session left open without speech"
