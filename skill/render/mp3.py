"""Read an MP3's frame headers: what Alexa checks (codec, bit rate, rate, channels, length).

Pure Python over the bytes, so checking needs neither ffprobe (not shipped by
imageio-ffmpeg) nor a tag library, and every frame is looked at -- a variable bit rate or a
stray frame at another rate anywhere in the file is caught, not only in the first header.
"""

from __future__ import annotations

from dataclasses import dataclass

# Bit rates in kbps by index, for Layer III: MPEG-1, and MPEG-2/2.5.
_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 2.5: (11025, 12000, 8000)}
_VERSIONS = {0b11: 1, 0b10: 2, 0b00: 2.5}


class Mp3Error(ValueError):
    """The bytes are not a clean MPEG audio stream."""


@dataclass(frozen=True)
class Mp3Info:
    """What the frames of one file say. Sets hold every value seen across all frames."""

    versions: frozenset
    layers: frozenset
    bitrates: frozenset  # kbps
    sample_rates: frozenset
    channels: frozenset
    frames: int
    seconds: float  # playing time, encoder delay and padding removed when the header says


def _id3v2_size(data: bytes) -> int:
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = 0
    for byte in data[6:10]:
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if data[5] & 0x10 else 0
    return 10 + size + footer


def _header(word: int) -> tuple | None:
    """(version, layer, bitrate kbps, rate, channels, frame bytes, samples) or None."""
    if word >> 21 != 0x7FF:
        return None
    version = _VERSIONS.get((word >> 19) & 0b11)
    layer = {0b01: 3, 0b10: 2, 0b11: 1}.get((word >> 17) & 0b11)
    bitrate_index = (word >> 12) & 0xF
    rate_index = (word >> 10) & 0b11
    if version is None or layer is None or bitrate_index in (0, 15) or rate_index == 3:
        return None
    padding = (word >> 9) & 1
    channels = 1 if (word >> 6) & 0b11 == 0b11 else 2
    rate = _RATES[version][rate_index]
    if layer == 3:
        kbps = _BITRATES[1 if version == 1 else 2][bitrate_index]
        samples = 1152 if version == 1 else 576
        size = (144 if version == 1 else 72) * kbps * 1000 // rate + padding
    else:  # Layers I and II are reported (and refused by the checker), not measured exactly
        kbps = _BITRATES[1 if version == 1 else 2][bitrate_index]
        samples = 384 if layer == 1 else 1152
        size = (12 * kbps * 1000 // rate + padding) * 4 if layer == 1 else (
            144 * kbps * 1000 // rate + padding
        )
    return version, layer, kbps, rate, channels, size, samples


def _gapless(frame: bytes, version: float, channels: int) -> tuple[bool, int, int]:
    """(is an Info/Xing header frame, encoder delay, padding) from a LAME header, if any."""
    side = (17 if channels == 1 else 32) if version == 1 else (9 if channels == 1 else 17)
    at = 4 + side
    tag = frame[at:at + 4]
    if tag not in (b"Xing", b"Info"):
        return False, 0, 0
    flags = int.from_bytes(frame[at + 4:at + 8], "big")
    offset = at + 8 + 4 * bool(flags & 1) + 4 * bool(flags & 2) + 100 * bool(flags & 4) + 4 * bool(
        flags & 8
    )
    lame = frame[offset:offset + 24]
    if len(lame) < 24 or not lame[:4].isalpha():
        return True, 0, 0
    packed = int.from_bytes(lame[21:24], "big")
    return True, packed >> 12, packed & 0xFFF


def read(data: bytes) -> Mp3Info:
    """Walk every frame of ``data``; :class:`Mp3Error` if anything is not a frame."""
    pos = _id3v2_size(data)
    end = len(data) - (128 if data[-128:-125] == b"TAG" else 0)
    seen: dict[str, set] = {k: set() for k in ("v", "l", "b", "r", "c")}
    frames = samples = delay = padding = 0
    rate = 0
    first = True
    while pos < end:
        if end - pos < 4:
            raise Mp3Error(f"{end - pos} stray bytes at the end")
        info = _header(int.from_bytes(data[pos:pos + 4], "big"))
        if info is None:
            raise Mp3Error(f"no MPEG audio frame at byte {pos}")
        version, layer, kbps, rate, channels, size, per_frame = info
        if pos + size > end:
            raise Mp3Error(f"the last frame (at byte {pos}) is cut short")
        if first:
            first = False
            is_tag, delay, padding = _gapless(data[pos:pos + size], version, channels)
            if is_tag:
                # The Info/Xing frame holds no audio; ffmpeg gives it whatever bit rate fits
                # the tag (64 kbps at 24 kHz), as in the encoding Amazon's docs recommend.
                pos += size
                continue
        for key, value in zip("vlbrc", (version, layer, kbps, rate, channels), strict=True):
            seen[key].add(value)
        frames += 1
        samples += per_frame
        pos += size
    if not frames:
        raise Mp3Error("no audio frames")
    played = max(0, samples - delay - padding)
    return Mp3Info(
        versions=frozenset(seen["v"]),
        layers=frozenset(seen["l"]),
        bitrates=frozenset(seen["b"]),
        sample_rates=frozenset(seen["r"]),
        channels=frozenset(seen["c"]),
        frames=frames,
        seconds=played / rate,
    )
