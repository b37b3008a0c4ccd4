"""Cue timing, loudness spread and no-op rebuild time of the audio build, measured.

Renders every default-pace breathing track (with and without holds), the guided practices
and the reflection silence with espeak-ng, then reads the exported MP3s back:

* **onset error per technique**: every cue onset found with pydub's silence detection,
  against the schedule content gives (cue start to next start = phase seconds). Target:
  at most 25 ms. The baseline, from the same run and the same rendered cues, is what the
  naive approach would give -- each cue followed by a break of the phase length (the "4 s
  plus the words" drift users complain about).
* **loudness spread**: gated loudness of every track; target +-1 dB of one level.
* **no-op rebuild**: the same build again (nothing to do), in process and as the CLI,
  against the first (full) build's time.

    .venv/bin/python bench/cue_timing.py [--out DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skill.audio import Manifest  # noqa: E402
from skill.content import load_content  # noqa: E402
from skill.plan import Beat  # noqa: E402
from skill.render import assembly, codec, measure  # noqa: E402
from skill.render.build import Options, build  # noqa: E402
from skill.render.engines import Espeak  # noqa: E402
from skill.routines import tracks  # noqa: E402

ONLY = ("breathing", "grounding", "self_compassion", "reflection")
TARGET_MS = 25.0


def schedule(track) -> list[tuple[float, str, float]]:
    """(onset the content asks for, cue key, beat seconds) of every cue in a track."""
    out, t = [], 0.0
    for seg in track.segments:
        if isinstance(seg, Beat):
            out.append((t, seg.key, seg.seconds))
            t += seg.seconds
    return out


def naive_onsets(cues: list[tuple[float, str, float]], spoken: dict[str, float]) -> list[float]:
    """Onsets if each cue were followed by a break of its phase length (no subtraction)."""
    out, t = [], 0.0
    for _, key, seconds in cues:
        out.append(t)
        t += spoken[key] + seconds
    return out


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--out", type=Path, default=None, help="keep the build here")
    args = cli.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="cue-timing-")) / "audio"
    options = Options(engine=Espeak(), out=out, only=ONLY, progress=False)

    started = time.perf_counter()
    first = build(options)
    full = time.perf_counter() - started

    content = load_content("en-US")
    manifest = Manifest.read(out / "manifest.json").pieces("en-US")
    spoken: dict[str, float] = {}
    errors: dict[str, list[float]] = defaultdict(list)
    baseline: dict[str, list[float]] = defaultdict(list)
    counted: dict[str, int] = defaultdict(int)
    levels: dict[str, float] = {}
    for track in tracks(content):
        entry = manifest.get(track.key)
        if entry is None:
            continue
        audio = codec.decode_file(out / entry.file)
        levels[track.key] = measure.loudness(audio)
        cues = schedule(track)
        if not cues:
            continue
        technique = track.key.split(".")[1]
        for _, key in entry.cues:  # the build's own record of each trimmed cue's length
            if key not in spoken:
                spoken[key] = _spoken_seconds(out, content, key)
        found = measure.onsets(audio)
        errors[technique] += measure.onset_errors([c[0] for c in cues], found)
        naive = naive_onsets(cues, spoken)
        baseline[technique] += [abs(n - c[0]) for n, c in zip(naive, cues, strict=True)]
        counted[technique] += 1

    started = time.perf_counter()
    again = build(options)
    noop = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "skill.cli", "build-audio", "--engine", "espeak",
                    "--out", str(out), *[a for o in ONLY for a in ("--only", o)]],
                   check=True, capture_output=True)
    noop_cli = time.perf_counter() - started

    print(f"audio build with espeak-ng: {len(first.built)} pieces, {first.seconds / 60:.1f} "
          f"min of audio, {first.size / 1e6:.1f} MB, in {out}")
    print()
    print(f"{'technique':<18}{'tracks':>7}{'cues':>7}{'max err ms':>12}{'mean ms':>9}"
          f"{'naive max ms':>14}{'ratio':>9}")
    for technique, errs in errors.items():
        worst, naive = max(errs) * 1000, max(baseline[technique]) * 1000
        print(f"{technique:<18}{counted[technique]:>7}{len(errs):>7}{worst:>12.1f}"
              f"{statistics.mean(errs) * 1000:>9.2f}{naive:>14.0f}{worst / naive:>9.4f}")
    all_errors = [e for errs in errors.values() for e in errs]
    verdict = "PASS" if max(all_errors) * 1000 <= TARGET_MS else "FAIL"
    print(f"every cue within {TARGET_MS:g} ms: {verdict} ({len(all_errors)} cues, "
          f"largest {max(all_errors) * 1000:.1f} ms)")
    print()
    low, high = min(levels.values()), max(levels.values())
    off = max(abs(v - assembly.TARGET_DBFS) for v in levels.values())
    print(f"loudness of {len(levels)} tracks (gated, from the MP3s): {low:.2f} to {high:.2f} "
          f"dBFS, spread {high - low:.2f} dB, at most {off:.2f} dB from the "
          f"{assembly.TARGET_DBFS:g} dBFS target")
    print()
    print(f"full build {full:.1f} s; no-op rebuild {noop:.2f} s in process "
          f"(ratio {noop / full:.3f}), {noop_cli:.2f} s as the CLI; "
          f"rendered {len(again.spoken)}, built {len(again.built)}")
    return 0 if verdict == "PASS" else 1


def _spoken_seconds(out: Path, content, key: str) -> float:
    """How long a cue is once trimmed: rendered again from the phrase cache, as the build
    prepares it (the phrase file itself carries a calm tail after the words)."""
    from skill.content import all_phrases
    from skill.render.build import PHRASES_DIR, PhraseCache
    from skill.render.recipes import speech_key

    engine = Espeak()
    text = all_phrases(content)[key].text
    cache = PhraseCache(out / PHRASES_DIR, engine.suffix)
    prepared = assembly.prepare(codec.decode(cache.get(speech_key(engine, "en-US", text))))
    return assembly.seconds_of(prepared)


if __name__ == "__main__":
    sys.exit(main())
