"""Assembly: phrases levelled, trimmed and placed on a silent bed, exactly on the beat.

Why not simply concatenate "cue + 4 s of silence"? Because then a 4 s inhale lasts 4 s plus
the words, and every cycle drifts further from the count the technique is known by -- the
pacing fault users of voice breathing skills complain about. Here each phrase is trimmed to
its first and last sound and placed at a computed onset:

* a :class:`~skill.plan.Beat` starts at the previous beat's onset plus that beat's seconds
  (cue start to next start is exactly the phase length from content);
* a :class:`~skill.plan.Say` starts where the previous segment ended, and a
  :class:`~skill.plan.Pause` adds its seconds after the end of the speech;
* a :class:`~skill.plan.Tone` is a soft chime generated here (two sines with fades).

Placement is sample-exact: the bed is raw PCM and each phrase's samples are copied in at
``round(onset * 24000)``. :func:`schedule` is the pure timing rule; :func:`assemble` applies
it to audio. Every phrase is levelled to one gated loudness before placement, and every track
is checked against the same target afterwards, so all files sit within +-1 dB of each other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ..plan import Beat, Pause, Say, Tone, Track
from .codec import FRAME_RATE, SAMPLE_WIDTH, from_pcm, pydub, silent
from .measure import SILENCE_DBFS, loudness, trim

#: Gated loudness every phrase, tone and track is levelled to. Speech peaks sit up to about
#: 20 dB above its level (espeak-ng measured 21 dB at most), so -21 dBFS keeps them under
#: the ceiling without a limiter.
TARGET_DBFS = -21.0
#: Allowed distance of any track from the target.
LOUDNESS_TOLERANCE_DB = 1.0
#: Peaks are kept under this, even if that leaves a phrase a little under the target.
PEAK_CEILING_DBFS = -1.0
#: Quiet after a standalone phrase, so two phrases played back to back do not run together.
PHRASE_TAIL_SECONDS = 0.7
#: Least quiet between the end of a cue and the next cue.
MIN_CUE_GAP_SECONDS = 0.25
#: Alexa plays at most 240 s from one file.
MAX_FILE_SECONDS = 240.0
#: The chime: (frequency Hz, level dB relative to the first) partials, a soft attack and a
#: long release. A fifth above A4 sounds like a small bowl, not an alarm.
TONE_PARTIALS = ((440.0, 0.0), (660.0, -9.0))
TONE_ATTACK_SECONDS = 0.04

#: Everything above that shapes the sound; part of every recipe, so changing any of it
#: rebuilds every piece. Bump ``version`` when the algorithm changes.
SETTINGS = {
    "version": 1,
    "target_dbfs": TARGET_DBFS,
    "silence_dbfs": SILENCE_DBFS,
    "peak_ceiling_dbfs": PEAK_CEILING_DBFS,
    "phrase_tail": PHRASE_TAIL_SECONDS,
    "min_cue_gap": MIN_CUE_GAP_SECONDS,
    "tone": [list(p) for p in TONE_PARTIALS],
    "tone_attack": TONE_ATTACK_SECONDS,
    "rate": FRAME_RATE,
}


class TimingError(Exception):
    """A track cannot be assembled as timed (a cue longer than its beat, a file too long)."""


@dataclass(frozen=True)
class Placement:
    """Where one sound goes in a track: ``onset`` seconds, ``key`` of the phrase (or tone)."""

    onset: float
    key: str
    seconds: float


@dataclass(frozen=True)
class Schedule:
    placements: tuple[Placement, ...]
    seconds: float

    @property
    def cues(self) -> tuple[tuple[float, str], ...]:
        """(onset, key) of every phrase, for the manifest and the breathing circle."""
        return tuple((round(p.onset, 3), p.key) for p in self.placements if p.key != "tone")


def schedule(track: Track, lengths: Mapping[str, float]) -> Schedule:
    """Onsets of every sound in ``track``, given each phrase's trimmed length in seconds.

    Pure: the timing rule alone, so it can be tested without audio and reused by tests to
    state what the exported file must contain.
    """
    cursor = 0.0
    out: list[Placement] = []
    for seg in track.segments:
        if isinstance(seg, Beat):
            spoken = lengths[seg.key]
            if spoken + MIN_CUE_GAP_SECONDS > seg.seconds:
                raise TimingError(
                    f"{track.key}: cue {seg.key} ({seg.text!r}) lasts {spoken:.2f} s, too long "
                    f"for its {seg.seconds:g} s beat; shorten the cue or slow the voice"
                )
            out.append(Placement(cursor, seg.key, spoken))
            cursor += seg.seconds
        elif isinstance(seg, Say):
            spoken = lengths[seg.key]
            out.append(Placement(cursor, seg.key, spoken))
            cursor += spoken
        elif isinstance(seg, Pause):
            cursor += seg.seconds
        elif isinstance(seg, Tone):
            out.append(Placement(cursor, "tone", seg.seconds))
            cursor += seg.seconds
        else:
            raise TypeError(f"not a segment: {seg!r}")
    if cursor > MAX_FILE_SECONDS:
        raise TimingError(
            f"{track.key} lasts {cursor:.1f} s; Alexa plays at most {MAX_FILE_SECONDS:g} s "
            "from one file, so the routine must cut it into shorter chunks"
        )
    return Schedule(tuple(out), round(cursor, 6))


def seconds_of(segment) -> float:
    return segment.frame_count() / segment.frame_rate


def level(segment, target: float = TARGET_DBFS):
    """``segment`` at ``target`` gated loudness, peaks kept under the ceiling.

    Two steps: plain RMS first (an engine's output may be far too quiet for the silence
    gate to see all of it), then the gated level; neither step may push a peak past the
    ceiling, since clipped speech cannot be repaired afterwards.
    """
    for measure in (lambda s: s.dBFS, loudness):
        current = measure(segment)
        if not math.isfinite(current):
            return segment
        segment = segment.apply_gain(min(target - current, PEAK_CEILING_DBFS - segment.max_dBFS))
    return segment


def prepare(decoded):
    """A decoded phrase ready to place: mono at the working rate, levelled, trimmed."""
    segment = decoded.set_channels(1).set_frame_rate(FRAME_RATE).set_sample_width(SAMPLE_WIDTH)
    return trim(level(segment))


def standalone(prepared):
    """A phrase as its own file: the trimmed speech and a short calm tail."""
    return prepared + silent(PHRASE_TAIL_SECONDS)


def tone(seconds: float):
    """A soft chime of ``seconds``: two sines, a gentle attack and a release to silence."""
    generators = pydub().generators
    ms = seconds * 1000
    first, *rest = TONE_PARTIALS
    chime = generators.Sine(first[0], sample_rate=FRAME_RATE).to_audio_segment(ms, first[1])
    for freq, gain in rest:
        chime = chime.overlay(
            generators.Sine(freq, sample_rate=FRAME_RATE).to_audio_segment(ms, gain)
        )
    chime = chime.set_sample_width(SAMPLE_WIDTH)
    chime = chime.fade_in(int(TONE_ATTACK_SECONDS * 1000)).fade_out(int(ms * 0.85))
    return level(chime)


@dataclass(frozen=True)
class Assembled:
    audio: object
    schedule: Schedule

    @property
    def seconds(self) -> float:
        return seconds_of(self.audio)


def assemble(track: Track, voices: Mapping[str, object]) -> Assembled:
    """Render ``track`` from prepared phrases (by plan key) into one levelled segment."""
    lengths = {key: seconds_of(audio) for key, audio in voices.items()}
    plan = schedule(track, lengths)
    total = round(plan.seconds * FRAME_RATE)
    bed = bytearray(total * SAMPLE_WIDTH)
    for placement in plan.placements:
        sound = tone(placement.seconds) if placement.key == "tone" else voices[placement.key]
        start = round(placement.onset * FRAME_RATE) * SAMPLE_WIDTH
        data = sound.raw_data[: len(bed) - start]
        bed[start:start + len(data)] = data
    audio = from_pcm(bytes(bed))
    measured = loudness(audio)
    if math.isfinite(measured) and abs(measured - TARGET_DBFS) > 0.1:
        gain = min(TARGET_DBFS - measured, PEAK_CEILING_DBFS - audio.max_dBFS)
        audio = audio.apply_gain(gain)
    return Assembled(audio, plan)
