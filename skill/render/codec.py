"""Audio in and out through the ffmpeg binary that the ``imageio-ffmpeg`` wheel ships.

The build must not need a system ffmpeg. pydub looks for ``ffmpeg`` on the PATH when it is
imported (and warns when it is missing), and decodes compressed files through ``ffprobe``,
which imageio-ffmpeg does not ship. So pydub is imported here, once, with that one warning
silenced and its converter pointed at imageio-ffmpeg's binary; and every decode runs ffmpeg
directly to raw 16-bit PCM at the working rate, which pydub loads without probing anything.

Working format everywhere in the build: 24000 Hz, mono, 16-bit -- the rate we export, so no
resampling happens between assembly and encoding.
"""

from __future__ import annotations

import functools
import subprocess
import warnings
from pathlib import Path

FRAME_RATE = 24000
CHANNELS = 1
SAMPLE_WIDTH = 2
#: Alexa plays MP3 at 48 kbps and 16000, 22050 or 24000 Hz (see ../shared/DESIGN.md).
BITRATE = "48k"


class CodecError(Exception):
    """ffmpeg could not decode or encode some audio; the message says which and why."""


@functools.cache
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@functools.cache
def pydub():
    """The ``pydub`` module, configured to use imageio-ffmpeg's binary.

    Imported lazily so that merely importing the build code costs nothing (a no-op rebuild
    never touches audio), and with pydub's "Couldn't find ffmpeg" warning silenced: we
    never let pydub look for ffmpeg, we tell it where ours is.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Couldn't find ffmp", RuntimeWarning)
        warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
        import pydub as module
        import pydub.generators  # noqa: F401  (tones)
        import pydub.silence  # noqa: F401  (trimming, onsets)
    module.AudioSegment.converter = ffmpeg_exe()
    return module


def _run(args: list[str], data: bytes | None, what: str) -> bytes:
    try:
        done = subprocess.run(
            [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin", *args],
            input=data,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise CodecError(f"cannot run ffmpeg for {what}: {exc}") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise CodecError(f"ffmpeg failed on {what}: {reason[-1] if reason else 'no output'}")
    return done.stdout


def silent(seconds: float):
    return pydub().AudioSegment.silent(duration=seconds * 1000, frame_rate=FRAME_RATE)


def from_pcm(raw: bytes):
    """An AudioSegment of raw samples in the working format."""
    return pydub().AudioSegment(
        data=raw, sample_width=SAMPLE_WIDTH, frame_rate=FRAME_RATE, channels=CHANNELS
    )


def decode(data: bytes, what: str = "audio"):
    """Any audio ffmpeg reads (MP3 from gTTS, WAV from espeak-ng) -> working-format segment.

    ffmpeg removes an MP3's encoder delay and padding (from its LAME header), so the decoded
    samples line up with what was encoded: onsets measured here are onsets a player hears.
    """
    raw = _run(
        ["-i", "pipe:0", "-ac", str(CHANNELS), "-ar", str(FRAME_RATE), "-f", "s16le", "pipe:1"],
        data,
        what,
    )
    return from_pcm(raw)


def decode_file(path: Path):
    return decode(Path(path).read_bytes(), str(path))


def encode_mp3(segment, path: Path) -> None:
    """Write ``segment`` as an Alexa-ready MP3: 48 kbps CBR, 24000 Hz, mono, no tags.

    Written to a real file (not a pipe) so LAME can go back and fill in its header, which
    carries the encoder delay that decoders remove; tags are left out so that the same audio
    always gives the same bytes, and so the same content hash.
    """
    segment = segment.set_frame_rate(FRAME_RATE).set_channels(CHANNELS).set_sample_width(
        SAMPLE_WIDTH
    )
    _run(
        [
            "-y",
            "-f", "s16le", "-ar", str(FRAME_RATE), "-ac", str(CHANNELS), "-i", "pipe:0",
            "-map_metadata", "-1", "-id3v2_version", "0", "-write_id3v1", "0",
            "-codec:a", "libmp3lame", "-b:a", BITRATE, "-ar", str(FRAME_RATE),
            "-ac", str(CHANNELS), "-f", "mp3", str(path),
        ],
        segment.raw_data,
        str(path),
    )
