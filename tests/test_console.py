"""The dev console's page and JSON routes (Flask level; the real browser is in
test_console_browser.py): present in dev mode, absent (404) in production, and answering
with the same matcher, content and store the skill itself uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from skill import cli
from skill.app import create_app
from skill.console import phase_kind, technique_phases
from skill.content import load_content
from skill.envelopes import DEV_SKILL_ID, Conversation
from skill.matcher import Matcher
from skill.store import user_state

ROOT = Path(__file__).resolve().parent.parent

#: (method, path, JSON body) of everything the console adds.
CONSOLE_ROUTES = [
    ("get", "/", None),
    ("get", "/console/static/console.js", None),
    ("get", "/console/static/timeline.js", None),
    ("get", "/console/static/console.css", None),
    ("post", "/console/api/match", {"text": "start box breathing"}),
    ("get", "/console/api/phases", None),
    ("get", "/console/api/cues", None),
    ("get", "/console/api/state?user=amzn1.ask.account.TEST", None),
]


@pytest.fixture
def audio_dir(tmp_path):
    folder = tmp_path / "audio"
    folder.mkdir()
    return folder


@pytest.fixture
def dev_app(tmp_path, db_url, audio_dir):
    return create_app(
        {
            "DEV": True,
            "DATABASE_URL": db_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "AUDIO_DIR": str(audio_dir),
        }
    )


@pytest.fixture
def production_app(tmp_path, db_url):
    return create_app(
        {
            "ALEXA_SKILL_ID": DEV_SKILL_ID,
            "DATABASE_URL": db_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )


def _call(client, method, path, body):
    if method == "post":
        return client.post(path, json=body)
    return client.get(path)


@pytest.mark.parametrize(("method", "path", "body"), CONSOLE_ROUTES)
def test_console_is_served_in_dev_mode(dev_app, method, path, body):
    with _call(dev_app.test_client(), method, path, body) as reply:
        assert reply.status_code == 200, reply.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path", "body"), CONSOLE_ROUTES)
def test_console_does_not_exist_outside_dev_mode(production_app, method, path, body):
    with _call(production_app.test_client(), method, path, body) as reply:
        assert reply.status_code == 404


def test_the_page_loads_nothing_from_the_internet(dev_app):
    page = dev_app.test_client().get("/").get_data(as_text=True)
    for ref in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert not ref.startswith(("http:", "https:", "//")), ref
    # ...and it knows the skill id the envelopes must carry.
    assert DEV_SKILL_ID in page


def test_the_page_labels_every_control(dev_app):
    page = dev_app.test_client().get("/").get_data(as_text=True)
    for control in re.findall(r'<(?:input|select)\b[^>]*\bid="([^"]+)"', page):
        assert f'for="{control}"' in page, f"#{control} has no <label>"
    for label in ("Breathe", "Ground me", "Self-compassion", "Tonight's reflection", "Pause",
                  "Resume", "Next", "Stop", "I'm not OK", "New user"):
        assert re.search(rf"<button[^>]*>\s*(?:<span[^>]*>[^<]*</span>\s*)?{re.escape(label)}"
                         r"\s*</button>", page.replace("&#39;", "'")), label
    assert 'aria-live="polite"' in page


# --- match ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chat_matcher():
    """What `breathing-room chat` matches with."""
    return Matcher.for_locale("en-US")


@pytest.mark.parametrize(
    ("text", "kind", "intent", "slots"),
    [
        ("start box breathing", "intent", "BreathingIntent",
         {"technique": {"value": "box breathing", "id": "BOX"}}),
        ("four seven eight for five minutes", "intent", "BreathingIntent",
         {"technique": {"value": "four seven eight", "id": "FOUR_SEVEN_EIGHT"},
          "minutes": {"value": "5", "id": None}}),
        ("ground me", "intent", "GroundingIntent", {}),
        ("I'm not OK", "intent", "CrisisIntent", {}),
        ("pause", "intent", "AMAZON.PauseIntent", {}),
        ("open breathing room", "launch", None, {}),
        ("", "end", None, {}),
    ],
)
def test_match_resolves_text_like_the_terminal_chat(dev_app, chat_matcher, text, kind, intent,
                                                   slots):
    reply = dev_app.test_client().post("/console/api/match", json={"text": text,
                                                                   "locale": "en-US"})
    found = reply.get_json()
    assert (found["kind"], found["intent"], found["slots"]) == (kind, intent, slots)
    same = chat_matcher.match(text)
    assert (same.kind, same.intent, same.score) == (kind, intent, found["score"])


@pytest.mark.parametrize("body", [None, {}, {"text": 5}, ["start box breathing"]])
def test_match_needs_text(dev_app, body):
    reply = dev_app.test_client().post("/console/api/match", json=body)
    assert reply.status_code in (400, 415)


def test_a_locale_without_content_gets_the_default_words(dev_app):
    """As the skill does: en-GB hears the en-US words (and, in the skill, its own crisis line)."""
    client = dev_app.test_client()
    found = client.post("/console/api/match", json={"text": "ground me", "locale": "en-GB"})
    assert (found.get_json()["locale"], found.get_json()["intent"]) == ("en-GB", "GroundingIntent")
    assert client.get("/console/api/phases?locale=en-GB").get_json()["techniques"]
    page = client.get("/").get_data(as_text=True)
    assert 'value="en-GB"' in page and 'value="en-US" selected' in page


@pytest.mark.parametrize("locale", ["english", "EN-us", "en_US"])
def test_a_malformed_locale_is_400(dev_app, locale):
    client = dev_app.test_client()
    assert client.post("/console/api/match", json={"text": "hi", "locale": locale}).status_code \
        == 400
    assert client.get(f"/console/api/phases?locale={locale}").status_code == 400


# --- phases --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "hold", "kind"),
    [("inhale", False, "inhale"), ("top_up", False, "inhale"), ("hold", True, "hold"),
     ("hold_full", True, "hold"), ("hold_empty", True, "hold"), ("exhale", False, "exhale")],
)
def test_phase_kinds(name, hold, kind):
    assert phase_kind(name, hold) == kind


def test_phases_come_from_content(dev_app):
    table = dev_app.test_client().get("/console/api/phases?locale=en-US").get_json()
    content = load_content("en-US")
    assert set(table["techniques"]) == set(content.techniques)
    assert table["voice"]["words_per_second"] == content.voice.words_per_second
    for technique_id, technique in content.techniques.items():
        phases = table["techniques"][technique_id]["phases"]
        assert [(p["name"], p["cue_key"], p["cue_text"], p["seconds"], p["hold"])
                for p in phases] == [
            (p.name, p.cue.key, p.cue.text, p.seconds, p.hold) for p in technique.phases
        ]
        # The circle: empty at the start of a cycle, full after the inhales, empty again.
        assert phases[0]["from"] == 0.0 and phases[-1]["to"] == 0.0
        for phase in phases:
            if phase["kind"] == "inhale":
                assert phase["to"] > phase["from"]
            elif phase["kind"] == "exhale":
                assert phase["to"] < phase["from"]
            else:
                assert phase["to"] == phase["from"]
        assert max(p["to"] for p in phases) == 1.0


def test_a_top_up_fills_the_rest_of_the_breath():
    sigh = load_content("en-US").techniques["CYCLIC_SIGH"]
    levels = [(p["name"], p["from"], p["to"]) for p in technique_phases(sigh)]
    assert levels == [("inhale", 0.0, 0.6), ("top_up", 0.6, 1.0), ("exhale", 1.0, 0.0)]


# --- cues (rendered audio) -----------------------------------------------------------------------


def test_cues_without_an_audio_build(dev_app):
    cues = dev_app.test_client().get("/console/api/cues").get_json()
    assert cues == {"locale": "en-US", "built": False, "engine": None, "files": {}}


TRACK, INTRO = "a" * 16, "b" * 16


def test_cues_read_the_manifest(dev_app, audio_dir):
    box = load_content("en-US").techniques["BOX"]
    inhale, hold_full, exhale, hold_empty = (p.cue.key for p in box.phases)
    manifest = {
        "version": 1,
        "engine": "espeak-ng",
        "built": "2026-11-27T00:00:00Z",
        "locales": {
            "en-US": {
                "pieces": {
                    "breathing.BOX.pace3.75.x1": {
                        "file": f"{TRACK}.mp3", "hash": TRACK + "0" * 48, "seconds": 16.2,
                        "cues": [[0.0, inhale], [4.0, hold_full], [8.0, exhale],
                                 [12.0, hold_empty]],
                    },
                    "breathing.BOX.intro": {
                        "file": f"{INTRO}.mp3", "hash": INTRO + "0" * 48, "seconds": 5.1,
                        "cues": [],
                    },
                }
            }
        },
    }
    (audio_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    cues = dev_app.test_client().get("/console/api/cues?locale=en-US").get_json()
    assert cues["built"] is True and cues["engine"] == "espeak-ng"
    track = cues["files"][f"{TRACK}.mp3"]
    assert track["key"] == "breathing.BOX.pace3.75.x1" and track["seconds"] == 16.2
    assert [(c["at"], c["kind"], c["from"], c["to"]) for c in track["cues"]] == [
        (0.0, "inhale", 0.0, 1.0), (4.0, "hold", 1.0, 1.0), (8.0, "exhale", 1.0, 0.0),
        (12.0, "hold", 0.0, 0.0),
    ]
    assert track["cues"][0]["text"] == box.phases[0].cue.text
    assert cues["files"][f"{INTRO}.mp3"]["text"] == box.intro.text


def test_a_broken_manifest_reads_as_no_build(dev_app, audio_dir):
    (audio_dir / "manifest.json").write_text("{not json", encoding="utf-8")
    assert dev_app.test_client().get("/console/api/cues").get_json()["built"] is False


# --- stored state --------------------------------------------------------------------------------


def test_state_shows_the_stored_record_after_a_conversation(dev_app):
    client = dev_app.test_client()
    person = Conversation()
    for send in (person.launch,
                 lambda: person.intent("BreathingIntent", {"technique": ("box breathing", "BOX")})):
        reply = client.post("/alexa", data=json.dumps(send()), content_type="application/json")
        assert reply.status_code == 200
        person.absorb(reply.get_json())

    shown = client.get("/console/api/state", query_string={"user": person.user_id}).get_json()
    store = dev_app.extensions["breathing_room"].store
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(user_state.c.attributes)).scalars().all()
    assert rows == [shown["attributes"]]  # the one person's row, exactly as stored
    assert "BOX" in json.dumps(shown["attributes"])  # their last technique is remembered

    stranger = client.get("/console/api/state?user=amzn1.ask.account.NOBODY").get_json()
    assert stranger == {"attributes": {}}


def test_state_needs_a_user(dev_app):
    assert dev_app.test_client().get("/console/api/state").status_code == 400


# --- where people find it ------------------------------------------------------------------------


def test_serve_dev_prints_the_console_address(monkeypatch, capsys):
    class App:
        def run(self, **kwargs):
            self.kwargs = kwargs

    app = App()
    monkeypatch.setattr(cli, "_app", lambda dev: app)
    assert cli.main(["serve", "--dev", "--port", "5057"]) == 0
    assert "Console:        http://127.0.0.1:5057/" in capsys.readouterr().out
    assert app.kwargs["host"] == "127.0.0.1"


def test_readme_points_to_the_console():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### In your browser", 1)[1].split("\n## ", 1)[0]
    assert "http://127.0.0.1:5000/" in section
    assert "bash scripts/dev.sh" in readme
