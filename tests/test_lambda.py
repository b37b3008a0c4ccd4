"""The skill on AWS Lambda: ``skill.lambda_handler.handler`` with real Alexa envelopes.

Lambda passes the request envelope as an already-parsed JSON object and expects the
response envelope as one; there is no HTTP and no signature, so the skill id check is
ask-sdk's own (``SkillBuilder.skill_id``).
"""

from __future__ import annotations

import json

import pytest
from ask_sdk_core.exceptions import AskSdkException

from skill import lambda_handler
from skill.envelopes import Conversation
from skill.errors import ConfigError
from tests.alexa_limits import check_response
from tests.conftest_store import envelope_for

SKILL_ID = "amzn1.ask.skill.99999999-2222-3333-4444-555555555555"


@pytest.fixture
def config(tmp_path):
    return {
        "ALEXA_SKILL_ID": SKILL_ID,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'lambda.sqlite3'}",
        "INSTANCE_PATH": str(tmp_path),
    }


def invoke(handler, envelope: dict) -> dict:
    """As Lambda does: the event is plain JSON (a dict), and so is the result."""
    result = handler(json.loads(json.dumps(envelope)), None)
    json.dumps(result)  # must be JSON-serializable for Lambda to return it
    return result


def test_a_conversation_on_lambda(config):
    handler = lambda_handler.build_handler(config)
    person = Conversation(skill_id=SKILL_ID)

    reply = invoke(handler, person.launch())
    check_response(reply)
    assert "Welcome to Breathing Room" in reply["response"]["outputSpeech"]["ssml"]
    person.absorb(reply)

    reply = invoke(handler, person.intent("GroundingIntent"))
    check_response(reply)
    assert reply["sessionAttributes"]["routine"]["routine"] == "grounding"

    again = invoke(handler, person.launch())  # a later session: the visit was stored
    assert "Welcome to Breathing Room" not in again["response"]["outputSpeech"]["ssml"]


def test_another_skills_request_is_refused_by_the_sdk(config, tmp_path):
    handler = lambda_handler.build_handler(config)
    stranger = Conversation(skill_id="amzn1.ask.skill.someone-else")
    with pytest.raises(AskSdkException, match="Skill ID Verification failed"):
        invoke(handler, stranger.launch())
    from skill.store import UserStore

    store = UserStore(config["DATABASE_URL"])
    try:
        assert store.get_attributes(envelope_for(stranger.user_id)) == {}
    finally:
        store.dispose()


@pytest.mark.parametrize("missing", ["ALEXA_SKILL_ID", "DATABASE_URL"])
def test_refuses_to_start_without_required_settings(config, monkeypatch, missing):
    monkeypatch.delenv(missing, raising=False)
    with pytest.raises(ConfigError, match=missing):
        lambda_handler.build_handler({**config, missing: None})


def test_module_handler_reads_the_environment(config, monkeypatch):
    monkeypatch.setenv("ALEXA_SKILL_ID", SKILL_ID)
    monkeypatch.setenv("DATABASE_URL", config["DATABASE_URL"])
    lambda_handler._default_handler.cache_clear()
    try:
        reply = invoke(lambda_handler.handler, Conversation(skill_id=SKILL_ID).launch())
        check_response(reply)
    finally:
        lambda_handler._default_handler.cache_clear()


def test_lambda_plays_rendered_audio_from_audio_base_url(config, tmp_path):
    """Lambda serves no files: with AUDIO_BASE_URL its responses point at that prefix."""
    digest = "ab" * 32
    manifest = {"version": 1, "engine": "espeak", "built": "2026-11-27T00:00:00+00:00",
                "locales": {"en-US": {"pieces": {"messages.welcome": {
                    "file": f"{digest[:16]}.mp3", "hash": digest, "seconds": 3.0,
                    "cues": []}}}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    handler = lambda_handler.build_handler({
        **config, "AUDIO_DIR": str(tmp_path), "AUDIO_BASE_URL": "https://cdn.example/audio"})
    reply = invoke(handler, Conversation(skill_id=SKILL_ID).launch())
    src = f"https://cdn.example/audio/{digest[:16]}.mp3"
    assert f'<audio src="{src}"/>' in reply["response"]["outputSpeech"]["ssml"]
    check_response(reply, audio_durations={src: 3.0})


def test_lambda_does_not_import_the_web_framework():
    """Flask is a fifth of a cold start and Lambda never uses it."""
    import subprocess
    import sys

    code = "import sys, skill.lambda_handler; sys.exit('flask' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
