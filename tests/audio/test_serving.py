"""The skill speaking from the audio build: <audio> tags within Alexa's limits, the URLs it
hands out, text whenever audio cannot be trusted, and /audio serving."""

from __future__ import annotations

import hashlib
import json
import logging
import re

import pytest

from skill.app import create_app
from skill.audio import AudioLibrary, Entry, Manifest, ManifestError, base_url_joiner
from skill.envelopes import DEV_SKILL_ID, Conversation
from skill.speech import NoAudio
from tests.alexa_limits import check_response
from tests.audio.helpers import exhale_track_key

CDN = "https://cdn.example/audio"
_SRC = re.compile(r'<audio src="([^"]+)"/>')


def make_app(tmp_path, audio_dir, **config):
    return create_app({
        "DEV": True,
        "ALEXA_SKILL_ID": DEV_SKILL_ID,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "AUDIO_DIR": str(audio_dir),
        **config,
    })


class Person:
    """Talks to the app like a device; every reply is checked with real audio lengths."""

    def __init__(self, app, durations: dict[str, float], locale: str = "en-US",
                 base_url: str = "http://localhost"):
        self.client = app.test_client()
        self.c = Conversation(skill_id=DEV_SKILL_ID, locale=locale)
        self.durations = durations
        self.base_url = base_url

    def send(self, envelope: dict) -> dict:
        reply = self.client.post("/alexa", data=json.dumps(envelope), base_url=self.base_url,
                                 content_type="application/json")
        assert reply.status_code == 200
        body = reply.get_json()
        check_response(body, audio_durations=self.durations)
        self.c.absorb(body)
        return body


def ssml(body: dict) -> str:
    return body["response"]["outputSpeech"]["ssml"]


def durations(folder, base: str) -> dict[str, float]:
    """URL -> seconds for every file of the manifest in ``folder``, under ``base``."""
    manifest = Manifest.read(folder / "manifest.json")
    return {f"{base}/{e.file}": e.seconds for e in manifest.pieces("en-US").values()}


@pytest.mark.espeak
def test_a_conversation_plays_the_build_from_audio_base_url(espeak_build, tmp_path):
    out, _ = espeak_build
    pieces = Manifest.read(out / "manifest.json").pieces("en-US")
    person = Person(make_app(tmp_path, out, AUDIO_BASE_URL=CDN + "/"), durations(out, CDN))

    launch = ssml(person.send(person.c.launch()))
    assert launch == f'<speak><audio src="{CDN}/{pieces["messages.welcome"].file}"/></speak>'

    body = person.send(person.c.intent(
        "BreathingIntent", {"technique": ("long exhale", "EXTENDED_EXHALE"), "minutes": "1"}))
    played = _SRC.findall(ssml(body))
    expected = [f"{CDN}/{pieces[k].file}" for k in (
        "breathing.EXTENDED_EXHALE.intro", exhale_track_key(), "breathing.EXTENDED_EXHALE.outro")]
    assert played[:3] == expected
    assert "<prosody" not in ssml(body)  # every piece was rendered, so nothing is left to text


@pytest.mark.espeak
def test_the_default_base_is_this_servers_audio_route(espeak_build, tmp_path):
    out, _ = espeak_build
    app = make_app(tmp_path, out)
    base = "https://skill.example/audio"
    person = Person(app, durations(out, base), base_url="https://skill.example")
    srcs = _SRC.findall(ssml(person.send(person.c.launch())))
    assert len(srcs) == 1 and srcs[0].startswith(base + "/")
    with app.test_client().get(srcs[0].removeprefix("https://skill.example")) as served:
        assert served.status_code == 200 and served.mimetype == "audio/mpeg"


@pytest.mark.espeak
def test_plain_http_gets_text_never_an_audio_url_alexa_refuses(espeak_build, tmp_path, caplog):
    out, _ = espeak_build
    # Production settings (checks off only so the test need not sign its requests).
    app = make_app(tmp_path, out, DEV=False, VERIFY_SIGNATURE=False, VERIFY_TIMESTAMP=False)
    person = Person(app, {})
    with caplog.at_level(logging.WARNING, logger="skill.audio"):
        for _ in range(2):
            body = person.send(person.c.launch())
            assert "<audio" not in ssml(body) and "Welcome" in ssml(body)
    assert len([r for r in caplog.records if "only plays https" in r.message]) == 1


@pytest.mark.espeak
def test_dev_mode_plays_loopback_http_audio_for_the_local_console(espeak_build, tmp_path):
    """In dev mode the server is on loopback, where no Echo can reach it, so its own http
    /audio/ URLs are handed out: the browser console plays exactly the rendered timing."""
    out, _ = espeak_build
    client = make_app(tmp_path, out).test_client()
    conversation = Conversation(skill_id=DEV_SKILL_ID)
    reply = client.post("/alexa", json=conversation.launch()).get_json()
    sources = _SRC.findall(reply["response"]["outputSpeech"]["ssml"])
    assert sources and all(src.startswith("http://localhost/audio/") for src in sources)
    served = client.get(sources[0].removeprefix("http://localhost"))
    assert served.status_code == 200 and served.mimetype == "audio/mpeg"
    served.close()


def test_an_http_audio_base_url_is_warned_about_at_start_up(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="skill.audio_files"):
        make_app(tmp_path, tmp_path / "audio", AUDIO_BASE_URL="http://cdn.example/audio")
    assert any("is not https" in r.message for r in caplog.records)


@pytest.mark.espeak
def test_a_locale_without_its_own_content_hears_the_audio_of_the_words_it_gets(
    espeak_build, tmp_path
):
    out, _ = espeak_build
    person = Person(make_app(tmp_path, out, AUDIO_BASE_URL=CDN), durations(out, CDN),
                    locale="en-GB")
    assert _SRC.findall(ssml(person.send(person.c.launch())))


# --- falling back to text (no espeak needed: the manifests are written by hand) ------------


def fake_build(folder, pieces: dict[str, float], *, write_files=True) -> dict[str, str]:
    """A manifest whose files hold placeholder bytes: key -> file name."""
    folder.mkdir(parents=True, exist_ok=True)
    names, entries = {}, {}
    for key, seconds in pieces.items():
        body = f"not really audio: {key}".encode()
        digest = hashlib.sha256(body).hexdigest()
        names[key] = f"{digest[:16]}.mp3"
        if write_files:
            (folder / names[key]).write_bytes(body)
        entries[key] = {"file": names[key], "hash": digest, "seconds": seconds, "cues": []}
    manifest = {"version": 1, "engine": "espeak", "built": "2026-11-27T00:00:00+00:00",
                "locales": {"en-US": {"pieces": entries}}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return names


def launch_and_breathe(app, base=CDN) -> tuple[str, str]:
    person = Person(app, _AnyLength())
    launch = ssml(person.send(person.c.launch()))
    breathe = ssml(person.send(person.c.intent(
        "BreathingIntent", {"technique": ("long exhale", "EXTENDED_EXHALE"), "minutes": "1"})))
    return launch, breathe


class _AnyLength(dict):
    """Durations for hand-written manifests: every URL is 2 s long."""

    def __missing__(self, url):
        return 2.0


def test_no_manifest_means_text(tmp_path):
    launch, breathe = launch_and_breathe(make_app(tmp_path, tmp_path / "none",
                                                  AUDIO_BASE_URL=CDN))
    assert "<audio" not in launch + breathe and "Welcome" in launch


def test_a_corrupt_manifest_means_text_and_one_warning(tmp_path, caplog):
    folder = tmp_path / "audio"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"version": 1, "locales": {')
    with caplog.at_level(logging.WARNING, logger="skill.audio"):
        app = make_app(tmp_path, folder, AUDIO_BASE_URL=CDN)
    launch, breathe = launch_and_breathe(app)
    assert "<audio" not in launch + breathe
    assert len([r for r in caplog.records if "not valid JSON" in r.message]) == 1


def test_a_partial_manifest_plays_what_it_has_and_speaks_the_rest(tmp_path):
    folder = tmp_path / "audio"
    names = fake_build(folder, {exhale_track_key(): 60.0})
    launch, breathe = launch_and_breathe(make_app(tmp_path, folder, AUDIO_BASE_URL=CDN))
    assert "<audio" not in launch
    assert _SRC.findall(breathe) == [f"{CDN}/{names[exhale_track_key()]}"]
    assert "Let's breathe gently" in breathe  # the intro, as text before the track


def test_entries_whose_files_are_missing_here_are_spoken_as_text(tmp_path, caplog):
    folder = tmp_path / "audio"
    names = fake_build(folder, {"messages.welcome": 3.0, exhale_track_key(): 60.0})
    (folder / names["messages.welcome"]).unlink()
    with caplog.at_level(logging.WARNING, logger="skill.audio_files"):
        app = make_app(tmp_path, folder)
    assert any("1 of 2 files" in r.message for r in caplog.records)
    person = Person(app, _AnyLength(), base_url="https://skill.example")
    assert "<audio" not in ssml(person.send(person.c.launch()))


def test_with_a_cdn_the_files_need_not_be_here(tmp_path):
    folder = tmp_path / "audio"
    names = fake_build(folder, {"messages.welcome": 3.0}, write_files=False)
    launch, _ = launch_and_breathe(make_app(tmp_path, folder, AUDIO_BASE_URL=CDN))
    assert _SRC.findall(launch) == [f"{CDN}/{names['messages.welcome']}"]


@pytest.mark.parametrize("entry, problem", [
    ({"file": "x.mp3"}, "is not <16 hex digits>.mp3"),
    ({"hash": "f" * 64}, "not the SHA-256 its file is named after"),
    ({"seconds": 241}, "not a length Alexa plays"),
    ({"seconds": "3"}, "not a length Alexa plays"),
    ({"seconds": float("nan")}, "not a length Alexa plays"),
    ({"cues": [[0.0]]}, "is not [seconds, key]"),
])
def test_a_bad_entry_is_dropped_and_the_rest_kept(entry, problem):
    good = {"file": "0123456789abcdef.mp3", "hash": "0123456789abcdef" + "0" * 48,
            "seconds": 2.5, "cues": [[0.0, "k"]]}
    manifest = Manifest.parse({"version": 1, "locales": {"en-US": {"pieces": {
        "good": good, "bad": {**good, **entry}}}}})
    assert set(manifest.pieces("en-US")) == {"good"}
    assert len(manifest.dropped) == 1 and problem in manifest.dropped[0]
    assert manifest.pieces("en-US")["good"] == Entry(good["file"], good["hash"], 2.5,
                                                      ((0.0, "k"),))


@pytest.mark.parametrize("data", [[], {"version": 2, "locales": {}}, {"version": 1}])
def test_a_manifest_that_cannot_be_used_at_all_is_refused(data):
    with pytest.raises(ManifestError):
        Manifest.parse(data)


def test_the_library_hands_out_https_clips_per_locale():
    entry = Entry("0123456789abcdef.mp3", "0123456789abcdef" + "0" * 48, 2.5)
    manifest = Manifest("espeak", "", {"en-US": {"messages.welcome": entry}})
    library = AudioLibrary(manifest, base_url_joiner("https://cdn.example/a/"))
    clip = library.for_locale("en-US").clip("messages.welcome")
    assert (clip.url, clip.seconds) == ("https://cdn.example/a/0123456789abcdef.mp3", 2.5)
    assert library.for_locale("en-US").clip("messages.goodbye") is None
    assert isinstance(library.for_locale("de-DE"), NoAudio)
    plain = AudioLibrary(manifest, base_url_joiner("http://cdn.example/a"))
    assert plain.for_locale("en-US").clip("messages.welcome") is None


# --- GET /audio/<file>.mp3 -------------------------------------------------------------------


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "audio"
    names = fake_build(folder, {"messages.welcome": 3.0})
    (folder / "cache").mkdir()
    (folder / "cache" / "builds.json").write_text("{}")
    name = names["messages.welcome"]
    return make_app(tmp_path, folder).test_client(), name, (folder / name).read_bytes()


def fetch(client, path: str, method: str = "GET", **kw):
    """The response, read and closed (a file body left open is a leaked file handle)."""
    with client.open(path, method=method, **kw) as reply:
        reply.get_data()
        return reply


def test_audio_is_served_for_long_caching(served):
    client, name, body = served
    reply = fetch(client, f"/audio/{name}")
    assert reply.status_code == 200 and reply.data == body
    assert reply.mimetype == "audio/mpeg"
    assert reply.headers["ETag"] == f'"{name.removesuffix(".mp3")}"'  # strong: no W/
    cache = reply.headers["Cache-Control"]
    assert {"public", "max-age=31536000", "immutable"} <= {p.strip() for p in cache.split(",")}
    assert reply.headers["Accept-Ranges"] == "bytes"
    assert fetch(client, f"/audio/{name}", "HEAD").data == b""


def test_audio_answers_conditional_and_range_requests(served):
    client, name, body = served
    etag = fetch(client, f"/audio/{name}").headers["ETag"]
    assert fetch(client, f"/audio/{name}", headers={"If-None-Match": etag}).status_code == 304
    part = fetch(client, f"/audio/{name}", headers={"Range": "bytes=4-9"})
    assert part.status_code == 206 and part.data == body[4:10]
    assert part.headers["Content-Range"] == f"bytes 4-9/{len(body)}"
    assert fetch(client, f"/audio/{name}", headers={"Range": "bytes=9999-"}).status_code == 416


@pytest.mark.parametrize("path", [
    "/audio/ffffffffffffffff.mp3",  # well-formed, not there
    "/audio/manifest.json",
    "/audio/cache/builds.json",
    "/audio/..%2Fmanifest.json",
    "/audio/%2e%2e/manifest.json",
    "/audio/FFFFFFFFFFFFFFFF.mp3",
    "/audio/ffffffffffffffff.MP3",
    "/audio/",
])
def test_audio_serves_nothing_else(served, path):
    client, *_ = served
    assert fetch(client, path).status_code == 404


def test_serving_never_imports_the_build(tmp_path):
    """The web service reads the manifest only: no gTTS, pydub, ffmpeg or tqdm in a worker."""
    import subprocess
    import sys

    code = (
        "import sys; from skill.app import create_app; "
        f"create_app({{'DEV': True, 'DATABASE_URL': 'sqlite:///{tmp_path}/db.sqlite3', "
        f"'INSTANCE_PATH': '{tmp_path}/instance', 'AUDIO_DIR': '{tmp_path}/audio'}}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydub', 'gtts', 'tqdm', 'imageio_ffmpeg') or m.startswith('skill.render')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
