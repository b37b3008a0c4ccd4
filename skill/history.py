"""What helped: the person's own feedback, and the patterns in it. Pure functions.

Only what is needed to notice patterns is kept: which practice (and technique), how much it
helped in the person's own three words, the date and the hour. No moods, no distress
scores, nothing the person said: Alexa's health policy forbids collecting health
information, and this product does not need it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

HELPFULNESS = ("A_LOT", "A_LITTLE", "NOT_REALLY")
#: Enough history to say something honest; fewer than this and we say so.
MIN_ENTRIES_FOR_PATTERNS = 3
#: The record keeps only the latest entries, so it stays small and recent.
MAX_ENTRIES = 200
#: Evening and night, for "what do they reach for at night".
NIGHT_HOURS = frozenset({*range(18, 24), *range(0, 5)})
_SCORE = {"A_LOT": 2, "A_LITTLE": 1, "NOT_REALLY": 0}


def practice_id(exercise: str, technique: str | None) -> str:
    """One id per practice a person can choose: a technique, or grounding/self_compassion."""
    return technique if exercise == "breathing" and technique else exercise


def entry(exercise: str, technique: str | None, helpfulness: str, date: str, hour: int) -> dict:
    if helpfulness not in HELPFULNESS:
        raise ValueError(helpfulness)
    return {
        "exercise": exercise,
        "technique": technique,
        "helpfulness": helpfulness,
        "date": date,
        "hour": hour,
    }


def added(history: list, item: dict) -> list:
    """A new history with ``item`` appended, trimmed to the newest ``MAX_ENTRIES``."""
    return (list(history) + [item])[-MAX_ENTRIES:]


def valid_entries(history: object) -> list[dict]:
    """Entries that are well formed; anything else (older formats, damage) is ignored."""
    if not isinstance(history, list):
        return []
    return [
        e for e in history
        if isinstance(e, dict)
        and e.get("helpfulness") in HELPFULNESS
        and isinstance(e.get("exercise"), str)
        and isinstance(e.get("hour"), int)
    ]


@dataclass(frozen=True)
class Best:
    practice: str
    helped: int
    times: int


@dataclass(frozen=True)
class Patterns:
    total: int
    best: Best | None
    night: str | None
    day: str | None


def best_practice(history: object) -> Best | None:
    """The practice that helped most often (ties: higher average, then more recent)."""
    entries = valid_entries(history)
    stats: dict[str, list] = {}
    for order, e in enumerate(entries):
        pid = practice_id(e["exercise"], e.get("technique"))
        helped, times, score, last = stats.get(pid, [0, 0, 0, 0])
        stats[pid] = [
            helped + (e["helpfulness"] != "NOT_REALLY"),
            times + 1,
            score + _SCORE[e["helpfulness"]],
            order,
        ]
    ranked = sorted(
        ((h, s / t, last, pid, t) for pid, (h, t, s, last) in stats.items() if h),
        reverse=True,
    )
    if not ranked:
        return None
    helped, _, _, pid, times = ranked[0]
    return Best(pid, helped, times)


def _most_used(entries: list[dict]) -> str | None:
    counts = Counter(practice_id(e["exercise"], e.get("technique")) for e in entries)
    if not counts:
        return None
    top = max(counts.values())
    # Ties go to the most recent of the tied practices.
    for e in reversed(entries):
        pid = practice_id(e["exercise"], e.get("technique"))
        if counts[pid] == top:
            return pid
    return None


def patterns(history: object) -> Patterns:
    entries = valid_entries(history)
    night = [e for e in entries if e["hour"] in NIGHT_HOURS]
    day = [e for e in entries if e["hour"] not in NIGHT_HOURS]
    return Patterns(
        total=len(entries),
        best=best_practice(entries),
        night=_most_used(night),
        day=_most_used(day),
    )
