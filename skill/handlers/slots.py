"""Reading slots the way Alexa fills them: entity-resolution ids first, spoken value second.

Alexa resolves "square breathing" to the id ``BOX`` when it matches a value or synonym
(status ER_SUCCESS_MATCH). When it does not, the raw spoken value is all we get, so we try
to match it ourselves before asking the person, kindly, to choose again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ask_sdk_core.handler_input import HandlerInput

_SUCCESS = "ER_SUCCESS_MATCH"


@dataclass(frozen=True)
class SlotReading:
    """What the person said for a slot: ``value`` as heard, ``id`` when resolved."""

    value: str | None
    id: str | None

    @property
    def empty(self) -> bool:
        return not self.value and not self.id


def read(handler_input: HandlerInput, name: str) -> SlotReading:
    request = handler_input.request_envelope.request
    slots = getattr(getattr(request, "intent", None), "slots", None) or {}
    slot = slots.get(name)
    if slot is None:
        return SlotReading(None, None)
    value = slot.value if slot.value not in (None, "", "?") else None
    resolutions = getattr(slot, "resolutions", None)
    for authority in getattr(resolutions, "resolutions_per_authority", None) or ():
        code = getattr(getattr(authority.status, "code", None), "value", None)
        if code == _SUCCESS and authority.values:
            return SlotReading(value, authority.values[0].value.id)
    return SlotReading(value, None)


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def resolve_spoken(value: str, choices: dict[str, list[str]]) -> str | None:
    """Match a spoken value against ``{id: [names...]}`` (ids also match as words)."""
    heard = _words(value)
    for choice_id, names in choices.items():
        candidates = {_words(choice_id.replace("_", " ")), *(_words(n) for n in names)}
        if heard in candidates:
            return choice_id
    for choice_id, names in choices.items():
        if any(_words(n) and _words(n) in heard for n in names):
            return choice_id
    return None


def number(reading: SlotReading) -> float | None:
    """AMAZON.NUMBER arrives as digits ("5"); anything else counts as not given."""
    if reading.value is None:
        return None
    try:
        return float(reading.value)
    except ValueError:
        return None
