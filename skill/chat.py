"""``breathing-room chat``: talk to the skill in a terminal, no Echo needed.

Typed lines are matched to intents and slots from the interaction model (the same sample
utterances and synonyms Alexa is given), sent through the real webhook in-process as Alexa
JSON envelopes, and the reply is printed with its pauses visible. Session attributes carry
over from turn to turn. Reads stdin line by line, so it can be scripted::

    printf 'open breathing room\\nstart box breathing\\nstop\\n' | breathing-room chat
"""

from __future__ import annotations

import json
import sys
from typing import TextIO

from .envelopes import Conversation
from .matcher import Match, Matcher
from .transcript import readable


def _request_for(conversation: Conversation, match: Match) -> dict:
    if match.kind == "launch":
        return conversation.launch()
    slots = {name: (slot.value, slot.id) for name, slot in match.slots.items()}
    return conversation.intent(match.intent or "AMAZON.FallbackIntent", slots)


def _show(response: dict, out: TextIO) -> None:
    body = response.get("response") or {}
    speech = (body.get("outputSpeech") or {}).get("ssml")
    if speech:
        print(f"alexa> {readable(speech)}", file=out)
    card = body.get("card")
    if card:
        print(f"[card] {card.get('title')}: {card.get('content')}", file=out)
    if body.get("shouldEndSession", True) is not False:
        print("[session ended]", file=out)


def run(app, lines: TextIO, out: TextIO, *, interactive: bool, locale: str = "en-US") -> int:
    matcher = Matcher.for_locale(locale)
    conversation = Conversation(locale=locale)
    client = app.test_client()
    if interactive:
        print("Say something (e.g. 'open breathing room', 'ground me', 'stop'); "
              "Ctrl-D to leave.", file=out)
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if not interactive:
            print(f"you> {text}", file=out)
        match = _request_for(conversation, matcher.match(text))
        reply = client.post("/alexa", data=json.dumps(match), content_type="application/json")
        if reply.status_code != 200:
            print(f"[error {reply.status_code}] {reply.get_data(as_text=True)}", file=out)
            return 1
        response = reply.get_json()
        conversation.absorb(response)
        _show(response, out)
    if not conversation.ended:
        envelope = conversation.session_ended("USER_INITIATED")
        client.post("/alexa", data=json.dumps(envelope), content_type="application/json")
    return 0


def main(app) -> int:
    interactive = sys.stdin.isatty()
    if interactive:
        return run(app, _prompted(sys.stdin), sys.stdout, interactive=True)
    return run(app, sys.stdin, sys.stdout, interactive=False)


def _prompted(stream: TextIO):
    while True:
        try:
            yield input("you> ")
        except EOFError:
            return
