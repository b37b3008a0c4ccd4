"""The gTTS engine against a stand-in for Google on 127.0.0.1 (see google_standin.py):
real gTTS, real requests through a real proxy and TLS, real MP3 bytes back."""

from __future__ import annotations

import re
import socket

import pytest

from skill.audio import Manifest
from skill.render.build import BuildError, Options, build, parser, run
from skill.render.check import check
from skill.render.engines import Gtts
from tests.audio.google_standin import GoogleStandIn, use_proxy
from tests.audio.helpers import CONTENT, files, require_espeak

pytestmark = pytest.mark.espeak  # the stand-in speaks with espeak-ng

ONLY = ("messages.welcome", "breathing.RESONANCE.pace6.x2")


def fast_gtts(**kw) -> Gtts:
    """Production gTTS settings, but with backoff short enough for a test."""
    return Gtts(backoff=0.01, **kw)


@pytest.fixture
def google(tmp_path, monkeypatch):
    require_espeak()
    with GoogleStandIn(tmp_path) as standin:
        use_proxy(monkeypatch, standin.proxy)
        yield standin


def test_a_gtts_build_speaks_every_phrase_through_google(google, tmp_path):
    out = tmp_path / "audio"
    summary = build(Options(engine=fast_gtts(), out=out, content=CONTENT, only=ONLY))
    texts = google.google.texts()
    cues = ["Breathe in.", "Breathe out."]
    assert sorted(t for t in texts if t in cues) == cues
    # gTTS sends a long phrase in parts (Google takes 100 characters at a time).
    parts = [t for t in texts if t not in cues]
    assert sorted(_words(" ".join(parts))) == sorted(_words(_welcome()))
    assert {host for host, *_ in google.google.requests} == {"translate.google.com"}
    assert set(google.google.tunnels) == {"translate.google.com:443"}
    assert {lang for _, _, lang, _ in google.google.requests} == {"en"}
    manifest = Manifest.read(out / "manifest.json")
    assert manifest.engine == "gtts"
    assert set(manifest.pieces("en-US")) == set(ONLY)
    assert len(summary.built) == 2
    assert check(out) == (2, [])


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'-]+", text)


def _welcome() -> str:
    from skill.content import load_content

    return load_content("en-US", CONTENT).message("welcome").text


def test_the_accent_follows_the_locale(google):
    engine = fast_gtts()
    assert engine.synthesize("Hello.", "en-GB")[:2] in (b"\xff\xf3", b"\xff\xfb", b"ID")
    assert engine.synthesize("Hello.", "en-AU")
    assert [host for host, *_ in google.google.requests] == [
        "translate.google.co.uk", "translate.google.com.au"
    ]


def test_a_429_is_retried_after_a_pause(google, tmp_path):
    google.google.script[:] = [429]
    slept = []
    engine = fast_gtts(sleep=slept.append)
    build(Options(engine=engine, out=tmp_path / "audio", content=CONTENT,
                  only=("messages.keep_going",)))
    assert [status for *_, status in google.google.requests] == [429, 200]
    assert google.google.texts(429) == google.google.texts(200) == ["Shall we keep going?"]
    assert len(slept) == 1 and slept[0] > 0
    pieces = Manifest.read(tmp_path / "audio" / "manifest.json").pieces("en-US")
    assert set(pieces) == {"messages.keep_going"}


def test_google_refusing_for_good_stops_with_one_line(google, tmp_path):
    google.google.script[:] = [403]
    with pytest.raises(BuildError, match=r"HTTP 403.*--engine espeak"):
        build(Options(engine=fast_gtts(), out=tmp_path / "audio", content=CONTENT,
                      only=("messages.welcome",)))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_google_stops_with_one_line_and_leaves_the_last_build(
    built_copy, monkeypatch, capsys
):
    use_proxy(monkeypatch, f"http://127.0.0.1:{_closed_port()}")
    before = files(built_copy)
    args = parser().parse_args(["--engine", "gtts", "--out", str(built_copy),
                                "--content", str(CONTENT)])
    assert run(args, engine=fast_gtts(attempts=2)) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("build-audio: cannot reach Google text-to-speech")
    assert "--engine espeak" in err
    assert files(built_copy) == before  # audio, manifest and caches exactly as they were
