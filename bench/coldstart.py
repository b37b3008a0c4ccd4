"""Cold start as AWS Lambda sees it: a fresh Python process, from its start to the first
answered request, for ``skill.lambda_handler.handler`` and for a bare ask-sdk skill.

Each run is a new interpreter (imports, content validation, store set-up, skill build, one
LaunchRequest), timed from just before the process is started to the printed answer. The
gunicorn cold start (process start to the first answered, signature-verified request) is
in bench/throughput.py.

    .venv/bin/python bench/coldstart.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from skill.envelopes import Conversation  # noqa: E402

SKILL_ID = "amzn1.ask.skill.cold0000-0000-0000-0000-000000000000"

OURS = """
import json, sys
from skill.lambda_handler import handler
reply = handler(json.loads(sys.argv[1]), None)
print(reply["response"]["outputSpeech"]["ssml"][:40])
"""

BARE = """
import json, sys
from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.skill_builder import CustomSkillBuilder

class Hello(AbstractRequestHandler):
    def can_handle(self, handler_input):
        return True
    def handle(self, handler_input):
        return handler_input.response_builder.speak("Hello world").response

builder = CustomSkillBuilder()
builder.add_request_handler(Hello())
reply = builder.lambda_handler()(json.loads(sys.argv[1]), None)
print(reply["response"]["outputSpeech"]["ssml"][:40])
"""


def run(code: str, env: dict[str, str]) -> float:
    event = json.dumps(Conversation(skill_id=SKILL_ID).launch())
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code, event], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or "<speak>" not in result.stdout:
        raise RuntimeError(result.stderr[-2000:])
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "ALEXA_SKILL_ID": SKILL_ID, "LOG_LEVEL": "WARNING",
               "DATABASE_URL": f"sqlite:///{tmp}/cold.sqlite3"}
        ours, bare = [], []
        for _ in range(args.runs):  # alternate, so machine noise falls on both
            ours.append(run(OURS, env))
            bare.append(run(BARE, env))
    o, b = statistics.median(ours), statistics.median(bare)
    print(f"Lambda-style cold start, process start -> first answered LaunchRequest "
          f"(median of {args.runs})")
    print(f"  ours {o:.2f} s   bare ask-sdk {b:.2f} s   ratio {o / b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
