"""The README is the front door: keep its settings table and commands true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from skill.cli import parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: Set by AWS itself, not by the person deploying.
PLATFORM = {"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME"}


def _settings_table() -> set[str]:
    section = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z_]+)` \|", section, re.M))


def _read_in_code() -> set[str]:
    names: set[str] = set()
    for folder in ("skill", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            names |= set(re.findall(r"environ(?:\.get)?\(?\[?\"([A-Z_]+)\"", text))
            names |= set(re.findall(r"^ENV_VAR = \"([A-Z_]+)\"", text, re.M))
    return names - PLATFORM


def test_every_setting_the_code_reads_is_documented_and_vice_versa():
    assert _settings_table() == _read_in_code()


def test_every_command_is_in_the_readme():
    commands = parser()._subparsers._group_actions[0].choices  # argparse keeps them here
    for name in commands:
        assert f"breathing-room {name}" in README, name


def test_the_two_commands_exist_as_written():
    for script in ("scripts/dev.sh", "scripts/test.sh"):
        assert f"bash {script}" in README
        assert (ROOT / script).is_file()
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
