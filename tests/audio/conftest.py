"""Fixtures for the audio build: espeak-ng builds shared by the session, and a stand-in
for Google's text-to-speech behind a real local proxy.

Tests that synthesise speech need espeak-ng. Without it they skip and say why, unless
``REQUIRE_ESPEAK=1`` (CI), where a missing espeak-ng fails them: a skipped audio test in CI
would be a check that silently stopped running.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from skill.render.build import Options, build
from skill.render.engines import Espeak
from tests.audio.helpers import CONTENT, exhale_track_key, require_espeak

#: What the shared build renders: enough for a whole conversation, small enough to be quick.
SHARED_ONLY = (
    "messages",
    "breathing.EXTENDED_EXHALE.intro",
    "breathing.EXTENDED_EXHALE.outro",
    "reflection.silence",
)


@pytest.fixture(scope="session")
def espeak_build(tmp_path_factory):
    """One espeak-ng build for the session: (audio folder, summary). Treat it as read-only;
    copy it (``built_copy``) to change it."""
    require_espeak()
    out = tmp_path_factory.mktemp("audio") / "audio"
    summary = build(Options(engine=Espeak(), out=out, content=CONTENT,
                            only=SHARED_ONLY + (exhale_track_key(),)))
    return out, summary


@pytest.fixture
def built_copy(espeak_build, tmp_path) -> Path:
    """A private copy of the session's build."""
    copy = tmp_path / "audio"
    shutil.copytree(espeak_build[0], copy)
    return copy
