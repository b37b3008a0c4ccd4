"""Measuring rendered audio: where speech starts, and how loud it is.

One definition of "speech starts" is shared by the assembler (which trims each phrase to its
first sound and places that sound on the beat) and by the checks (which find every onset
again in the exported MP3): the first millisecond louder than :data:`SILENCE_DBFS`. So an
onset error measured by :func:`onsets` is an error of placement and encoding, not of two
different yardsticks.

Loudness is "gated": the RMS level of the parts that are not silent. A breathing track is
mostly silence; averaging the silence in would make a sparse track look quieter than a dense
one with exactly the same voice level.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .codec import pydub

#: Anything quieter than this (relative to full scale) is silence. Phrases are levelled to
#: about -21 dBFS, so this sits about 30 dB under speech and well above MP3's noise floor.
SILENCE_DBFS = -50.0
#: Pauses inside one phrase (a comma, a full stop) are shorter than this; gaps between cues
#: are longer, so each cue is found as one onset.
MIN_GAP_MS = 350


def leading_silence_ms(segment, threshold: float = SILENCE_DBFS) -> int:
    """Milliseconds before the first millisecond louder than ``threshold``."""
    return pydub().silence.detect_leading_silence(segment, threshold, chunk_size=1)


def trim(segment, threshold: float = SILENCE_DBFS):
    """``segment`` without leading and trailing silence (to the millisecond)."""
    start = leading_silence_ms(segment, threshold)
    end = len(segment) - leading_silence_ms(segment.reverse(), threshold)
    return segment[start:max(start, end)]


def loudness(segment, threshold: float = SILENCE_DBFS) -> float:
    """Gated RMS level in dBFS: the level of the sound, ignoring the silence around it."""
    spans = pydub().silence.detect_nonsilent(
        segment, min_silence_len=100, silence_thresh=threshold, seek_step=10
    )
    if not spans:
        return -math.inf
    sound = sum((segment[a:b] for a, b in spans[1:]), segment[spans[0][0]:spans[0][1]])
    return sound.dBFS


def onsets(segment, threshold: float = SILENCE_DBFS, min_gap_ms: int = MIN_GAP_MS) -> list[float]:
    """Seconds at which sound starts after at least ``min_gap_ms`` of silence.

    pydub's ``detect_nonsilent`` finds each stretch of sound on a 10 ms grid (a 1 ms grid
    over a 200 s track is needlessly slow); each start is then refined to the millisecond
    with ``detect_leading_silence`` -- the same test the assembler trimmed with.
    """
    silence = pydub().silence
    spans = silence.detect_nonsilent(
        segment, min_silence_len=min_gap_ms, silence_thresh=threshold, seek_step=10
    )
    found = []
    for start, _ in spans:
        lo = max(0, start - min_gap_ms // 2)
        window = segment[lo:start + 50]
        found.append((lo + silence.detect_leading_silence(window, threshold, 1)) / 1000)
    return found


def onset_errors(expected: Sequence[float], found: Sequence[float]) -> list[float]:
    """For each expected onset, the distance in seconds to the nearest onset found.

    An expected cue with nothing found near it shows up as a large error, never as a pass.
    """
    if not found:
        return [math.inf for _ in expected]
    return [min(abs(f - e) for f in found) for e in expected]
