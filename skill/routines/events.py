"""The events every routine understands. Handlers translate intents into these."""

from __future__ import annotations

from enum import StrEnum


class Event(StrEnum):
    NEXT = "next"  # also "yes" to "Shall we keep going?"
    REPEAT = "repeat"
    START_OVER = "start_over"
    RESUME = "resume"
    SLOWER = "slower"
    FASTER = "faster"
