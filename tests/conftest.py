"""Shared fixtures: a fresh app per test, and a conversation helper that talks to it the
way Alexa does (JSON envelopes over POST /alexa, session attributes threaded)."""

from __future__ import annotations

import json

import pytest

from skill.app import create_app
from skill.envelopes import DEV_SKILL_ID, Conversation
from skill.transcript import readable
from tests import fake_alexa_api
from tests.alexa_limits import check_response
from tests.conftest_store import *  # noqa: F401,F403  (store fixtures, both backends)


@pytest.fixture(scope="session")
def alexa_api_server(tmp_path_factory):
    """One fake Alexa API (HTTPS on 127.0.0.1) for the whole run."""
    api, server, thread = fake_alexa_api.start(tmp_path_factory.mktemp("alexa-api"))
    yield api
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def alexa_api(alexa_api_server):
    """The fake Alexa API, emptied for this test."""
    alexa_api_server.reset()
    return alexa_api_server


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def app(tmp_path, db_url, alexa_api):
    return create_app(
        {
            "DEV": True,
            "ALEXA_SKILL_ID": DEV_SKILL_ID,
            "DATABASE_URL": db_url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "ALEXA_API_VERIFY": alexa_api.ca_file,
            # Hermetic: a developer's own audio build must not change what tests hear.
            "AUDIO_DIR": str(tmp_path / "audio"),
        }
    )


class Talk:
    """One person talking to the skill. ``send`` posts an envelope and returns the reply.

    Every reply is checked against Alexa's limits, and its session attributes are carried
    into the next request, exactly as a device would.
    """

    def __init__(self, client, conversation: Conversation) -> None:
        self.client = client
        self.c = conversation
        self.last: dict = {}

    def send(self, envelope: dict) -> dict:
        reply = self.client.post("/alexa", data=json.dumps(envelope),
                                 content_type="application/json")
        assert reply.status_code == 200, reply.get_data(as_text=True)
        body = reply.get_json()
        check_response(body)
        self.c.absorb(body)
        self.last = body
        return body

    def launch(self) -> dict:
        return self.send(self.c.launch())

    def intent(self, name: str, slots: dict | None = None, **kw) -> dict:
        return self.send(self.c.intent(name, slots, **kw))

    def end(self, reason: str = "USER_INITIATED") -> dict:
        return self.send(self.c.session_ended(reason))

    # Reading the last reply.
    @property
    def ssml(self) -> str:
        return self.last["response"].get("outputSpeech", {}).get("ssml", "")

    @property
    def text(self) -> str:
        return readable(self.ssml)

    @property
    def reprompt(self) -> str:
        r = self.last["response"].get("reprompt")
        return readable(r["outputSpeech"]["ssml"]) if r else ""

    @property
    def open(self) -> bool:
        return self.last["response"].get("shouldEndSession") is False

    @property
    def session(self) -> dict:
        return self.last.get("sessionAttributes") or {}


def conversation(api, user_id: str | None = None) -> Conversation:
    """A person whose device's apiEndpoint is the fake Alexa API."""
    return Conversation(user_id, skill_id=DEV_SKILL_ID, api_endpoint=api.url,
                        api_access_token=fake_alexa_api.TOKEN)


@pytest.fixture
def talk(app, alexa_api):
    return Talk(app.test_client(), conversation(alexa_api))


@pytest.fixture
def new_talk(app, alexa_api):
    """A factory for more people (or the same person on another device)."""

    def make(user_id: str | None = None) -> Talk:
        return Talk(app.test_client(), conversation(alexa_api, user_id))

    return make
