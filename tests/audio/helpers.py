"""Helpers for the audio tests (imported by tests; fixtures live in conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from skill.content import load_content

ROOT = Path(__file__).resolve().parents[2]
CONTENT = ROOT / "content"


def require_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        reason = "espeak-ng is not installed (apt-get install espeak-ng)"
        if os.environ.get("REQUIRE_ESPEAK") == "1":
            pytest.fail(f"{reason}; REQUIRE_ESPEAK=1 forbids skipping", pytrace=False)
        pytest.skip(reason)


def exhale_track_key(cycles: int = 6) -> str:
    """The 1-minute long-exhale track (6 cycles of 10 s at the default pace)."""
    technique = load_content("en-US", CONTENT).techniques["EXTENDED_EXHALE"]
    return f"breathing.EXTENDED_EXHALE.pace{technique.pace.default:g}.x{cycles}"


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes: a snapshot to compare before and after."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def speak_mp3(text: str, *, rate: int = 24000, bitrate: str = "32k") -> bytes:
    """Real MP3 bytes of ``text``: espeak-ng to WAV, ffmpeg to MP3 (what Google sends back
    is 24 kHz, 32 kbps mono MP3)."""
    from skill.render.codec import ffmpeg_exe

    wav = subprocess.run(["espeak-ng", "--stdout", "--", text], capture_output=True,
                         check=True).stdout
    return subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", "pipe:0", "-ac", "1",
         "-ar", str(rate), "-codec:a", "libmp3lame", "-b:a", bitrate, "-f", "mp3", "pipe:1"],
        input=wav, capture_output=True, check=True,
    ).stdout
