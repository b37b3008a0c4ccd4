"""The audio build end to end with espeak-ng: cues on the beat in the exported MP3, levels,
the manifest, the caches, and check-audio."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from dataclasses import replace
from datetime import datetime

import pytest

from skill.audio import Manifest
from skill.cli import main as cli
from skill.content import load_content
from skill.render import assembly, codec, measure
from skill.render.build import Options, build
from skill.render.engines import Espeak
from skill.routines.breathing import phase_lengths
from tests.audio.helpers import CONTENT, exhale_track_key, files, require_espeak, speak_mp3

pytestmark = pytest.mark.espeak

TOLERANCE = 0.025  # seconds: the target for every cue onset


def _schedule(cycles: int) -> list[tuple[float, str]]:
    """Where the content says each cue of the long-exhale track starts."""
    technique = load_content("en-US", CONTENT).techniques["EXTENDED_EXHALE"]
    out, t = [], 0.0
    for _ in range(cycles):
        for phase, seconds in phase_lengths(technique, technique.pace.default, True):
            out.append((round(t, 3), phase.cue.key))
            t += seconds
    return out


def test_every_cue_of_a_rendered_breathing_track_lands_on_the_beat(espeak_build):
    out, _ = espeak_build
    entry = Manifest.read(out / "manifest.json").pieces("en-US")[exhale_track_key()]
    expected = _schedule(6)
    assert [(round(at, 3), key) for at, key in entry.cues] == expected
    audio = codec.decode_file(out / entry.file)
    found = measure.onsets(audio)
    errors = measure.onset_errors([at for at, _ in expected], found)
    assert max(errors) <= TOLERANCE, list(zip(expected, errors, strict=True))
    # Exactly one sound per cue: nothing stray in the quiet between them.
    assert len(found) == len(expected), found
    assert entry.seconds == pytest.approx(60.0, abs=0.002)


def test_the_reflection_silence_ends_in_a_soft_tone_after_the_silence(espeak_build):
    out, _ = espeak_build
    entry = Manifest.read(out / "manifest.json").pieces("en-US")["reflection.silence"]
    silence = load_content("en-US", CONTENT).reflection.silence_seconds
    audio = codec.decode_file(out / entry.file)
    found = measure.onsets(audio)
    assert len(found) == 1 and abs(found[0] - silence) <= TOLERANCE
    assert entry.cues == ()  # a tone is not a cue


def test_every_file_is_levelled_to_one_loudness(espeak_build):
    out, _ = espeak_build
    pieces = Manifest.read(out / "manifest.json").pieces("en-US")
    levels = {key: measure.loudness(codec.decode_file(out / e.file)) for key, e in pieces.items()}
    off = {k: round(v, 2) for k, v in levels.items()
           if abs(v - assembly.TARGET_DBFS) > assembly.LOUDNESS_TOLERANCE_DB}
    assert not off


def test_the_manifest_has_the_agreed_shape_and_honest_hashes(espeak_build):
    out, summary = espeak_build
    data = json.loads((out / "manifest.json").read_text())
    assert set(data) == {"version", "engine", "built", "locales"}
    assert data["version"] == 1 and data["engine"] == "espeak"
    datetime.fromisoformat(data["built"])
    pieces = data["locales"]["en-US"]["pieces"]
    assert len(pieces) == len(summary.built) and "messages.welcome" in pieces
    for key, entry in pieces.items():
        assert set(entry) == {"file", "hash", "seconds", "cues"}, key
        body = (out / entry["file"]).read_bytes()
        assert hashlib.sha256(body).hexdigest() == entry["hash"]
        assert entry["file"] == entry["hash"][:16] + ".mp3"
        assert 0 < entry["seconds"] <= 240
    assert pieces["messages.welcome"]["cues"] == []
    assert pieces[exhale_track_key()]["cues"][1] == [4.0, "breathing.EXTENDED_EXHALE.cue.exhale"]


def test_every_exported_file_passes_check_audio(espeak_build, capsys):
    out, _ = espeak_build
    assert cli(["check-audio", "--out", str(out)]) == 0
    assert "are all MP3, 48 kbps" in capsys.readouterr().out


def _replace(folder, manifest, key, body: bytes, seconds: float | None = None) -> None:
    """Put ``body`` in place of ``key``'s file, with a manifest entry that names it."""
    digest = hashlib.sha256(body).hexdigest()
    (folder / f"{digest[:16]}.mp3").write_bytes(body)
    entry = manifest["locales"]["en-US"]["pieces"][key]
    entry.update(file=f"{digest[:16]}.mp3", hash=digest)
    if seconds is not None:
        entry["seconds"] = seconds


def test_check_audio_names_every_file_alexa_would_refuse(built_copy, capsys):
    path = built_copy / "manifest.json"
    manifest = json.loads(path.read_text())
    pieces = manifest["locales"]["en-US"]["pieces"]
    welcome = pieces["messages.welcome"]
    _replace(built_copy, manifest, "messages.help", speak_mp3("Help.", rate=44100, bitrate="128k"))
    long = codec.silent(250)
    codec.encode_mp3(long, built_copy / "long.tmp")
    _replace(built_copy, manifest, "messages.goodbye", (built_copy / "long.tmp").read_bytes(),
             seconds=239.0)
    (built_copy / welcome["file"]).write_bytes(b"\xff\xf3" + b"junk" * 100)
    path.write_text(json.dumps(manifest))

    assert cli(["check-audio", "--out", str(built_copy)]) == 1
    err = capsys.readouterr().err
    assert "messages.help: " in err and "bit rate 128 kbps" in err
    assert "sample rate 44100 Hz" in err
    assert "messages.goodbye: " in err and "plays 250.0 s, Alexa plays at most 240 s" in err
    assert "messages.welcome: " in err and "SHA-256" in err and "not a clean MP3" in err
    assert "messages.menu_question" not in err


def test_check_audio_fails_without_a_manifest(tmp_path, capsys):
    assert cli(["check-audio", "--out", str(tmp_path)]) == 1
    assert "does not exist" in capsys.readouterr().err


def _edit(root, file: str, old: str, new: str) -> None:
    path = root / "en-US" / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_caches_render_nothing_twice_and_an_edit_only_what_uses_it(tmp_path):
    require_espeak()
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    out = tmp_path / "audio"
    exhale, resonance = exhale_track_key(2), "breathing.RESONANCE.pace6.x2"
    options = Options(engine=Espeak(), out=out, content=content,
                      only=("breathing.EXTENDED_EXHALE.cue", exhale, resonance))

    first = build(options)
    assert set(first.built) == {
        "en-US breathing.EXTENDED_EXHALE.cue.inhale", "en-US breathing.EXTENDED_EXHALE.cue.exhale",
        f"en-US {exhale}", f"en-US {resonance}",
    }
    assert sorted(first.spoken) == sorted({"breathing.EXTENDED_EXHALE.cue.inhale",
                                           "breathing.EXTENDED_EXHALE.cue.exhale",
                                           "breathing.RESONANCE.cue.exhale"})
    before = files(out)

    again = build(options)
    assert again.spoken == [] and again.built == [] and again.unchanged == 4
    assert files(out) == before  # not even the manifest is rewritten

    _edit(content, "breathing.yaml", 'cue: "Breathe out slowly."', 'cue: "Breathe out, slowly."')
    dry = []
    planned = build(replace(options, dry_run=True), say=dry.append)
    assert planned.spoken == ["breathing.EXTENDED_EXHALE.cue.exhale"]
    assert any("breathing.EXTENDED_EXHALE.cue.exhale: not in the phrase cache" in line
               for line in dry)
    assert any(f"{exhale}: breathing.EXTENDED_EXHALE.cue.exhale changed" in line for line in dry)
    assert files(out) == before  # a dry run changes nothing

    edited = build(options)
    assert edited.spoken == ["breathing.EXTENDED_EXHALE.cue.exhale"]
    assert set(edited.built) == {"en-US breathing.EXTENDED_EXHALE.cue.exhale", f"en-US {exhale}"}
    old = Manifest.parse(json.loads(before["manifest.json"])).pieces("en-US")
    new = Manifest.read(out / "manifest.json").pieces("en-US")
    assert new[resonance] == old[resonance]
    inhale = "breathing.EXTENDED_EXHALE.cue.inhale"
    assert new[inhale] == old[inhale]
    assert new[exhale].file != old[exhale].file
    assert not (out / old[exhale].file).exists()  # the stale file is pruned
    assert edited.pruned == 2


def test_a_cue_too_long_for_its_beat_is_left_to_text_and_reported(tmp_path):
    require_espeak()
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    # Three words pass content validation, but take espeak-ng far longer than the 2 s top-up.
    _edit(content, "breathing.yaml", 'cue: "A little more."',
          'cue: "Extraordinarily magnificent inhalation."')
    summary = build(Options(engine=Espeak(), out=tmp_path / "audio", content=content,
                            only=("breathing.CYCLIC_SIGH.pace5.x2",)))
    assert summary.built == []
    assert len(summary.skipped) == 1 and "too long for its 2 s beat" in summary.skipped[0]
    manifest = Manifest.read(tmp_path / "audio" / "manifest.json")
    assert len(manifest) == 0


def test_the_command_line_builds_and_reports(tmp_path, capsys):
    require_espeak()
    out = tmp_path / "audio"
    args = ["build-audio", "--engine", "espeak", "--out", str(out), "--content", str(CONTENT),
            "--only", "messages.welcome", "--only", "messages.goodbye"]
    assert cli(args) == 0
    printed = capsys.readouterr().out
    assert "phrases: 2 rendered, 0 from cache" in printed
    assert "pieces:  2 phrases and 0 tracks built, 0 unchanged" in printed
    assert cli([*args, "--dry-run"]) == 0
    assert "dry run: would render 0 phrases" in capsys.readouterr().out
    assert cli(["build-audio", "--engine", "espeak", "--out", str(out), "--only", "nothing"]) == 1
    assert capsys.readouterr().err.strip() == "build-audio: nothing to build matches --only nothing"


def test_measured_onsets_see_a_misplaced_cue():
    """The yardstick itself: a cue 40 ms late is measured 40 ms late, not rounded away."""
    require_espeak()
    from skill.render.engines import Espeak as Engine

    cue = assembly.prepare(codec.decode(Engine().synthesize("Breathe in.", "en-US")))
    bed = codec.silent(3.0)
    placed = bed.overlay(cue, position=0).overlay(cue, position=1540)
    found = measure.onsets(placed)
    errors = measure.onset_errors([0.0, 1.5], found)
    assert errors[0] <= 0.002 and errors[1] == pytest.approx(0.040, abs=0.002)
    assert measure.onset_errors([1.0], []) == [math.inf]
