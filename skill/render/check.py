"""``breathing-room check-audio``: every file in the manifest against Alexa's audio rules.

Alexa refuses a whole response ("There was a problem with the requested skill's response")
when one ``<audio>`` file is off: not MP3, not 48 kbps, not 16000/22050/24000 Hz, longer
than 240 s. This check runs over the built folder before it is deployed, and also verifies
each file is the one the manifest names (SHA-256) and lasts what the manifest says (the
speech layer budgets a response's 240 s with those numbers).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

from ..audio import MANIFEST_NAME, MAX_SECONDS, Entry, Manifest, ManifestError, default_audio_dir
from . import mp3

BITRATE_KBPS = 48
SAMPLE_RATES = frozenset({16000, 22050, 24000})
#: How far the manifest's length may be from the file's before the budget is wrong.
SECONDS_TOLERANCE = 0.05


def problems(folder: Path, entry: Entry) -> Iterator[str]:
    """Everything wrong with one manifest entry's file (nothing when it is fine)."""
    path = folder / entry.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        yield f"cannot read {entry.file}: {exc.strerror or exc}"
        return
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.hash:
        yield f"{entry.file}: SHA-256 is {digest[:16]}..., the manifest says {entry.hash[:16]}..."
    try:
        info = mp3.read(data)
    except mp3.Mp3Error as exc:
        yield f"{entry.file}: not a clean MP3 ({exc})"
        return
    if info.layers != {3}:
        yield f"{entry.file}: MPEG layer {sorted(info.layers)}, Alexa needs MP3 (layer 3)"
    if info.bitrates != {BITRATE_KBPS}:
        yield f"{entry.file}: bit rate {_kbps(info.bitrates)} kbps, Alexa needs {BITRATE_KBPS}"
    if not info.sample_rates <= SAMPLE_RATES or len(info.sample_rates) != 1:
        yield (f"{entry.file}: sample rate {_kbps(info.sample_rates)} Hz, Alexa needs one of "
               f"{', '.join(map(str, sorted(SAMPLE_RATES)))}")
    if not info.channels <= {1, 2}:
        yield f"{entry.file}: channels {sorted(info.channels)}"
    if info.seconds > MAX_SECONDS:
        yield f"{entry.file}: plays {info.seconds:.1f} s, Alexa plays at most {MAX_SECONDS:g} s"
    if abs(info.seconds - entry.seconds) > SECONDS_TOLERANCE:
        yield (f"{entry.file}: plays {info.seconds:.3f} s, the manifest says "
               f"{entry.seconds:.3f} s")


def _kbps(values) -> str:
    return "/".join(str(v) for v in sorted(values))


def check(folder: Path) -> tuple[int, list[str]]:
    """(files checked, problems as "locale key: problem" lines)."""
    try:
        manifest = Manifest.read(folder / MANIFEST_NAME)
    except ManifestError as exc:
        return 0, [str(exc)]
    found = [f"manifest: {line}" for line in manifest.dropped]
    checked: dict[str, list[str]] = {}
    for locale, pieces in sorted(manifest.locales.items()):
        for key, entry in sorted(pieces.items()):
            if entry.file not in checked:
                checked[entry.file] = list(problems(folder, entry))
            found += [f"{locale} {key}: {p}" for p in checked[entry.file]]
    return len(checked), found


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog="breathing-room check-audio", description=__doc__)
    cli.add_argument("--out", type=Path, default=None,
                     help="audio folder (default: $BREATHING_ROOM_AUDIO or audio/)")
    return run(cli.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    folder = args.out or default_audio_dir()
    count, found = check(folder)
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(f"check-audio: {len(found)} problems in {folder}", file=sys.stderr)
        return 1
    print(f"check-audio: {count} files in {folder} are all MP3, {BITRATE_KBPS} kbps, "
          f"{'/'.join(map(str, sorted(SAMPLE_RATES)))} Hz, at most {MAX_SECONDS:g} s")
    return 0
