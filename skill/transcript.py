"""SSML -> readable text with the pauses visible, for the terminal chat and dev tools.

``<break>``s in a row are summed into one ``[pause 4.0s]``; an ``<audio>`` tag shows as
``[audio <file>]`` so a content author sees exactly what an Echo would play.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import unescape

_TOKEN = re.compile(
    r'<break time="(?P<amount>\d+(?:\.\d+)?)(?P<unit>ms|s)"/>'
    r'|<audio src="(?P<src>[^"]*)"/>'
    r"|<[^>]+>"
    r"|(?P<text>[^<]+)"
)


def readable(ssml: str) -> str:
    parts: list[str] = []
    pause = 0.0

    def flush_pause() -> None:
        nonlocal pause
        if pause >= 0.05:
            parts.append(f"[pause {pause:.1f}s]")
        pause = 0.0

    for match in _TOKEN.finditer(ssml):
        if match.group("amount"):
            amount = float(match.group("amount"))
            pause += amount / 1000 if match.group("unit") == "ms" else amount
        elif match.group("src") is not None:
            flush_pause()
            parts.append(f"[audio {match.group('src').rsplit('/', 1)[-1]}]")
        elif match.group("text") and match.group("text").strip():
            flush_pause()
            parts.append(unescape(match.group("text").strip()))
    flush_pause()
    return " ".join(parts)
