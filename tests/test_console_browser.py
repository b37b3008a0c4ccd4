"""The dev console in a real browser: Debian's Chromium driven by Playwright.

The real dev server runs in a thread (``create_app`` in DEV mode behind werkzeug's server);
the page builds Alexa envelopes, POSTs them to ``/alexa``, shows the replies with their pauses,
plays them and moves the breathing circle. Time in the page is Playwright's fake clock, so a
4-second inhale is checked in a few milliseconds and the test never sleeps through a practice.

Needs ``/usr/bin/chromium`` (``apt-get install -y chromium``; never ``playwright install``)
and the ``playwright`` package: skipped with a reason when either is missing, failed instead
when ``REQUIRE_BROWSER=1`` (CI). The rendered-audio test also needs espeak-ng.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from skill.app import create_app
from skill.console import phase_kind
from skill.content import load_content
from skill.envelopes import DEV_SKILL_ID, Conversation
from skill.plan import Beat, Track, segments_of
from skill.routines import breathing
from skill.speech import render
from skill.transcript import readable

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: A fixed start for the page's fake clock; the clock is paused just after it.
CLOCK_START = datetime(2026, 11, 27, 21, 0, 0)

content = load_content("en-US")


def _need_browser() -> None:
    problem = None
    if not Path(CHROMIUM).is_file():
        problem = f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is missing (pip install -e '.[dev]')"
    if problem:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{problem}; REQUIRE_BROWSER=1 makes this a failure")
        pytest.skip(problem)


@pytest.fixture
def browser(tmp_path):
    """A fresh Chromium profile per test, on Debian's binary."""
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 950},
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def serve():
    """Start an app on 127.0.0.1 (a free port) in a thread; returns its base URL."""
    running = []

    def start(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        running.append((server, thread, app))
        return f"http://127.0.0.1:{server.port}/"

    yield start
    for server, thread, app in running:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        app.extensions["breathing_room"].store.dispose()


def dev_app(tmp_path, **extra):
    return create_app(
        {
            "DEV": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'console.sqlite3'}",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "AUDIO_DIR": str(tmp_path / "audio"),
            **extra,
        }
    )


def open_console(browser, url):
    """The console on a paused fake clock, with no browser voice (as in headless Chromium,
    made certain here): the page must then show and time the words without speaking them."""
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script("if (window.speechSynthesis) speechSynthesis.getVoices = () => [];")
    page.clock.install(time=CLOCK_START)
    page.goto(url)
    page.locator("body[data-ready=true]").wait_for()
    page.clock.pause_at(CLOCK_START + timedelta(minutes=5))
    page.errors = errors
    return page


def run_for(page, seconds: float) -> None:
    """Advance the page's clock, firing its timers and animation frames on the way."""
    page.clock.run_for(int(seconds * 1000))


def shape(value):
    """The structure of a JSON value: keys and types, not ids or times."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def exchange(page, action):
    """Do ``action`` (typing, a click) and return the envelope sent and the response JSON."""
    with page.expect_response("**/alexa") as answered:
        action()
    response = answered.value
    assert response.status == 200, response.text()
    envelope = json.loads(response.request.post_data)
    reply = response.json()
    # The transcript has caught up once the reply's "session" note is shown.
    expect_turns(page, envelope)
    return envelope, reply


def expect_turns(page, envelope):
    from playwright.sync_api import expect

    expect(page.locator(".turn.alexa .session-note")).to_have_count(
        page.locator(".turn.you").count()
    )


def said(page) -> str:
    """The last reply as the transcript shows it."""
    return page.locator(".turn.alexa").last.locator(".said").text_content()


def phase_starts(page, kind: str) -> list[float]:
    """When each phase of ``kind`` starts, from the page's timing panel."""
    starts = []
    for line in page.locator("#timeline li").all_text_contents():
        found = re.match(rf"([\d.]+) s · {kind} ", line)
        if found:
            starts.append(float(found.group(1)))
    return starts


def circle(page) -> dict:
    return page.evaluate(
        """() => {
          const breath = document.getElementById('breath');
          const circle = document.getElementById('circle');
          return {phase: breath.dataset.phase, level: parseFloat(breath.dataset.level),
                  motion: breath.dataset.motion, transform: getComputedStyle(circle).transform,
                  opacity: parseFloat(getComputedStyle(circle).opacity),
                  label: document.getElementById('phase-label').textContent};
        }"""
    )


def test_console_talks_breathes_pauses_and_gives_crisis_resources(browser, serve, tmp_path):
    from playwright.sync_api import expect

    page = open_console(browser, serve(dev_app(tmp_path)))
    check_the_page_reads_ssml_as_python_does(page)
    expect(page.locator("#speech-status")).to_contain_text("No browser voice available")
    expect(page.locator("#audio-status")).to_contain_text("No rendered audio yet")

    # Typed text goes through the matcher and becomes the same envelope the Python side builds.
    box = page.get_by_label("Say something to Alexa")

    def type_it():
        box.fill("start box breathing")
        box.press("Enter")

    envelope, reply = exchange(page, type_it)
    python = Conversation(skill_id=DEV_SKILL_ID).intent(
        "BreathingIntent", {"technique": ("box breathing", "BOX")}
    )
    assert shape(envelope) == shape(python)
    assert envelope["request"]["intent"] == python["request"]["intent"]
    assert envelope["session"]["new"] is True
    expect(page.locator(".turn.you").last).to_contain_text(
        "start box breathing → BreathingIntent {technique=box breathing (BOX)}"
    )
    ssml = reply["response"]["outputSpeech"]["ssml"]
    assert "<audio" not in ssml
    assert said(page) == readable(ssml)  # exactly what `breathing-room chat` shows
    assert "[pause " in said(page)

    # The circle follows the plan: the first inhale starts after the intro, 4 s per phase.
    first = phase_starts(page, "inhale")[0]
    assert first > 0
    run_for(page, first - 0.5)
    assert circle(page)["phase"] == "rest"
    run_for(page, 1.5)  # 1 s into the 4 s inhale
    now = circle(page)
    assert (now["phase"], now["label"], now["motion"]) == ("inhale", "Breathe in", "full")
    assert 0.05 < now["level"] < 0.5 and now["transform"] != "none"
    run_for(page, 4)
    assert circle(page)["phase"] == "hold" and circle(page)["level"] == 1.0
    run_for(page, 4)
    assert circle(page)["phase"] == "exhale"
    page.screenshot(path=str(tmp_path / "console.png"), full_page=True)

    # prefers-reduced-motion: no scaling, the phase in words and a change of brightness.
    page.emulate_media(reduced_motion="reduce")
    run_for(page, 0.1)
    still = circle(page)
    assert (still["motion"], still["transform"], still["label"]) == ("reduced", "none",
                                                                     "Breathe out")
    assert 0.35 <= still["opacity"] < 1.0
    page.emulate_media(reduced_motion="no-preference")

    # Pause: what the device says stops, and the skill answers with its own words.
    pause_messages = {content.message(name).text for name in ("paused", "stopped")}
    _, reply = exchange(page, lambda: page.get_by_role("button", name="Pause").click())
    expect(page.locator(".turn.you").last).to_contain_text("Pause → AMAZON.PauseIntent")
    assert said(page) == readable(reply["response"]["outputSpeech"]["ssml"])
    assert any(message in said(page) for message in pause_messages), said(page)
    run_for(page, 0.1)
    assert circle(page)["phase"] == "rest"

    _, reply = exchange(page, lambda: page.get_by_role("button", name="Resume").click())
    expect(page.locator(".turn.you").last).to_contain_text("Resume → AMAZON.ResumeIntent")
    assert said(page) and said(page) == readable(reply["response"]["outputSpeech"]["ssml"])

    # The side panel: session attributes as the skill returned them, and the stored record.
    assert json.loads(page.locator("#session-attributes").text_content()) == (
        reply.get("sessionAttributes") or {}
    )
    expect(page.locator("#stored-state")).to_contain_text("BOX")

    # A device with a screen says so in its envelope.
    page.get_by_label("Device with a screen (Display and APL)").check()

    def ground_me():
        box.fill("ground me")
        box.press("Enter")

    envelope, reply = exchange(page, ground_me)
    interfaces = envelope["context"]["System"]["device"]["supportedInterfaces"]
    assert {"Display", "Alexa.Presentation.APL"} <= set(interfaces)
    assert envelope["context"]["Viewport"]["shape"] == "RECTANGLE"
    assert envelope["request"]["intent"]["name"] == "GroundingIntent"
    assert said(page) == readable(reply["response"]["outputSpeech"]["ssml"])

    # Crisis: at once, the words and the card from content/en-US/crisis.yaml.
    exchange(page, lambda: page.get_by_role("button", name="I'm not OK").click())
    crisis = content.crisis
    last = page.locator(".turn.alexa").last
    expect(last.locator(".said")).to_contain_text(crisis.message.text)
    expect(last.locator(".card")).to_contain_text(crisis.card_title)
    expect(last.locator(".card")).to_contain_text(crisis.card_text)

    # Keyboard only: from the text box, Tab reaches Send with a visible focus ring, and the
    # one-click buttons work from the keyboard.
    box.focus()
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.textContent.trim(),"
        " getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused == ["Send", "solid"]
    page.keyboard.press("Tab")  # "Open the skill"
    envelope, _ = exchange(page, lambda: page.keyboard.press("Enter"))
    assert envelope["request"]["type"] == "LaunchRequest"

    # New user: a new id, nothing stored for them.
    old_user = page.locator("#user-id").text_content()
    page.get_by_role("button", name="New user").click()
    expect(page.locator("#user-id")).not_to_have_text(old_user)
    expect(page.locator("#stored-state")).to_have_text("{}")

    # Every control has an accessible name.
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, input, select, audio')]
             .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                           && !el.textContent.trim())
             .map(el => el.outerHTML)"""
    )
    assert unnamed == []
    assert page.locator("#transcript").get_attribute("aria-live") == "polite"
    assert page.locator(".turn.error").count() == 0
    assert page.errors == []


def check_the_page_reads_ssml_as_python_does(page):
    """The page's SSML reading (timeline.js) against the Python it mirrors: the transcript
    text against skill/transcript.py, and the circle's phases against the speech plan."""
    for seconds in (0.25, 0.75, 1.25, 2.95, 3.05, 0.35, 10.0, 3.4499):
        assert page.evaluate("x => BreathingRoomTimeline.oneDecimal(x)", seconds) == \
            f"{seconds:.1f}"
    sample = ('<speak><prosody rate="90%">Rock &amp; roll &lt;3<break time="250ms"/>'
              '<break time="10000ms"/><break time="1.5s"/></prosody>'
              '<audio src="https://x.example/audio/0123456789abcdef.mp3"/>Done.</speak>')
    assert page.evaluate("s => BreathingRoomTimeline.readable(s)", sample) == readable(sample)

    phases = page.evaluate("() => breathingRoomConsole.tables().PHASES")
    for technique in content.techniques.values():
        for holds in (True, False):
            turn = breathing.start(content, technique.id, holds=holds)
            ssml = render(turn.speech, content.voice)
            planned = [
                (phase_kind(name, hold), beat.seconds)
                for beat in segments_of(turn.speech)
                if isinstance(beat, Beat)
                for name, hold in [_phase_of(technique, beat.key)]
            ]
            items = page.evaluate(
                "([s, p]) => BreathingRoomTimeline.timeline(s, p, null, null)"
                ".filter(i => i.type === 'cue').map(i => [i.phase.kind, i.phase.seconds])",
                [ssml, phases],
            )
            assert [kind for kind, _ in items] == [kind for kind, _ in planned], technique.id
            for (_, shown), (_, exact) in zip(items, planned, strict=True):
                assert shown == pytest.approx(exact, abs=0.002), technique.id


def _phase_of(technique, cue_key: str) -> tuple[str, bool]:
    phase = next(p for p in technique.phases if p.cue.key == cue_key)
    return phase.name, phase.hold


def test_a_missing_browser_skips_locally_and_fails_in_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        _need_browser()
    monkeypatch.setenv("REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_BROWSER=1"):
        _need_browser()


# --- rendered audio ------------------------------------------------------------------------------


def _render_track(folder: Path, track: Track) -> dict:
    """A real MP3 for ``track``: its first cue spoken by espeak-ng, then silence to the track's
    full length, with the cue onsets the audio build would list (cue to cue exact)."""
    from imageio_ffmpeg import get_ffmpeg_exe

    wav = folder / "cue.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), track.segments[0].text], check=True,
                   capture_output=True)
    onsets, at = [], 0.0
    for beat in track.segments:
        assert isinstance(beat, Beat)
        onsets.append([round(at, 3), beat.key])
        at += beat.seconds
    mp3 = folder / "track.mp3"
    subprocess.run(
        [get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(wav), "-af", "apad",
         "-t", f"{at:.3f}", "-ar", "24000", "-ac", "1", "-b:a", "48k", str(mp3)],
        check=True, capture_output=True,
    )
    digest = hashlib.sha256(mp3.read_bytes()).hexdigest()
    name = f"{digest[:16]}.mp3"
    mp3.rename(folder / name)
    wav.unlink()
    return {"file": name, "hash": digest, "seconds": round(at, 3), "cues": onsets}


@pytest.fixture
def rendered_box(tmp_path):
    """An audio folder whose manifest has one piece: the box-breathing track that
    "start box breathing" plays, as a real MP3."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install -y espeak-ng)")
    folder = tmp_path / "audio"
    folder.mkdir()
    turn = breathing.start(content, "BOX")
    track = next(piece for piece in turn.speech if isinstance(piece, Track))
    piece = _render_track(folder, track)
    manifest = {
        "version": 1,
        "engine": "espeak-ng (test fixture)",
        "built": "2026-11-27T21:00:00+00:00",
        "locales": {"en-US": {"pieces": {track.key: piece}}},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return track.key, piece


@pytest.mark.espeak
def test_console_plays_the_rendered_track_and_follows_its_cues(
    browser, serve, tmp_path, rendered_box
):
    key, piece = rendered_box
    # Alexa only plays https audio, so the skill names a public prefix; the console plays the
    # same file from this dev server's /audio/.
    app = dev_app(tmp_path, AUDIO_BASE_URL="https://audio.example.invalid/audio")
    page = open_console(browser, serve(app))
    from playwright.sync_api import expect

    expect(page.locator("#audio-status")).to_contain_text("Rendered audio: 1 file")
    box = page.get_by_label("Say something to Alexa")

    def type_it():
        box.fill("start box breathing")
        box.press("Enter")

    _, reply = exchange(page, type_it)
    ssml = reply["response"]["outputSpeech"]["ssml"]
    assert f'<audio src="https://audio.example.invalid/audio/{piece["file"]}"/>' in ssml
    assert said(page) == readable(ssml)
    assert f"[audio {piece['file']}]" in said(page)

    # The words before the track are timed as text; then the audio element gets the track.
    run_for(page, phase_starts_before_audio(page) + 0.2)
    player = page.locator("#player")
    assert player.evaluate("a => a.src").endswith(f"/audio/{piece['file']}")
    assert player.evaluate("a => a.dataset.key") == key

    # The circle follows the file's own clock through the manifest's cue onsets.
    deadline = time.monotonic() + 10
    while player.evaluate("a => a.currentTime") <= 0.2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert player.evaluate("a => a.currentTime") > 0.2, "the track did not start playing"
    run_for(page, 0.05)
    assert circle(page)["phase"] == "inhale"  # the first cue, at 0.0 s, is the inhale

    # Pause stops the track.
    exchange(page, lambda: page.get_by_role("button", name="Pause").click())
    assert player.evaluate("a => a.paused") is True
    assert page.errors == []


def phase_starts_before_audio(page) -> float:
    """When the audio item starts, from the timing panel (the words before it, as text)."""
    for line in page.locator("#timeline li").all_text_contents():
        found = re.match(r"([\d.]+) s · audio ", line)
        if found:
            return float(found.group(1))
    raise AssertionError("no audio in the timing panel")
