"""Load test: many people talking to Breathing Room on gunicorn at once, then an audit.

Starts ``bench/apps.py --app dev`` (gunicorn with the settings of ``breathing-room serve``;
DEV mode, so the simulated devices need not sign requests -- signature cost is measured
separately by bench/throughput.py) on 127.0.0.1, and drives realistic conversations from
``--users`` simulated people (one thread and one keep-alive connection each) for a fixed
``--seconds``. Each person repeats:

    launch -> breathing (their technique) -> next -> pause
    -> "ask breathing room to resume" (new session) -> stop
    -> grounding (new session) -> next -> session ends (silence)
    -> tonight's reflection (new session) [-> session ends]

Every request is a real Alexa envelope (skill/envelopes.py) with the session threaded from
the previous response. The report gives throughput, p50/p99 latency and errors. Then the
server is stopped with SIGTERM and every person's stored record is read back and compared
with what their own conversation must have left: visit count, last technique, number of
reflection prompts heard, and whether a paused practice is remembered. A record that lost
a write or received another person's would not match. Exit status 1 on any error or
mismatch.

    .venv/bin/python bench/load.py --db sqlite --users 32 --seconds 20
    .venv/bin/python bench/load.py --db postgresql --users 32 --seconds 20
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.apps import SKILL_ID  # noqa: E402
from bench.common import Client, Server, percentile  # noqa: E402
from skill.content import load_all  # noqa: E402
from skill.envelopes import Conversation  # noqa: E402
from skill.store import open_store  # noqa: E402
from tests.conftest_store import envelope_for  # noqa: E402

TECHNIQUES = [("box", "BOX"), ("four seven eight", "FOUR_SEVEN_EIGHT"),
              ("resonance", "RESONANCE"), ("cyclic sigh", "CYCLIC_SIGH"),
              ("long exhale", "EXTENDED_EXHALE")]
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Expected:
    """What this person's record must hold, updated by the rules each request follows."""

    visits: int = 0
    last_technique: str | None = None
    reflections: int = 0
    paused: bool = False


@dataclass
class Person:
    index: int
    port: int
    deadline: float
    conversation: Conversation = field(init=False)
    expected: Expected = field(default_factory=Expected)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cycles: int = 0

    def __post_init__(self) -> None:
        self.conversation = Conversation(
            f"amzn1.ask.account.LOAD{self.index:05d}{uuid.uuid4().hex.upper()}",
            skill_id=SKILL_ID,
        )

    def send(self, client: Client, envelope: dict) -> dict | None:
        body = json.dumps(envelope).encode()
        start = time.perf_counter()
        try:
            status, raw = client.post(body, {"Content-Type": "application/json"})
        except Exception as exc:  # a failed request is a counted error, not a crash
            self.errors.append(f"{type(exc).__name__}: {exc}")
            return None
        self.latencies.append(time.perf_counter() - start)
        if status != 200:
            self.errors.append(f"HTTP {status}: {raw[:200]!r}")
            return None
        reply = json.loads(raw)
        if "response" not in reply:
            self.errors.append("no response object")
            return None
        self.conversation.absorb(reply)
        return reply

    def running(self) -> bool:
        return isinstance(self.conversation.attributes.get("routine"), dict)

    def run(self) -> None:
        client = Client(self.port)
        c = self.conversation
        e = self.expected
        try:
            while time.monotonic() < self.deadline and self.cycles < 100_000:
                spoken, technique = TECHNIQUES[(self.index + self.cycles) % len(TECHNIQUES)]
                steps = [
                    ("launch", lambda: c.launch()),
                    ("breathing", lambda s=spoken, t=technique: c.intent(
                        "BreathingIntent", {"technique": (s, t), "minutes": "10"},
                        new_session=c.ended)),
                    ("next", lambda: c.intent("AMAZON.NextIntent")),
                    ("pause", lambda: c.intent("AMAZON.PauseIntent")),
                    ("resume", lambda: c.intent("AMAZON.ResumeIntent", new_session=True)),
                    ("stop", lambda: c.intent("AMAZON.StopIntent")),
                    ("grounding", lambda: c.intent("GroundingIntent", new_session=True)),
                    ("next", lambda: c.intent("AMAZON.NextIntent")),
                    ("silence", lambda: c.session_ended("EXCEEDED_MAX_REPROMPTS")),
                    ("reflection", lambda: c.intent("ReflectionIntent", new_session=True)),
                    ("silence", lambda: c.session_ended("EXCEEDED_MAX_REPROMPTS")),
                ]
                for name, build in steps:
                    if time.monotonic() >= self.deadline:
                        return
                    if name in ("next", "pause", "stop", "silence") and c.ended:
                        continue  # that session already closed: a device would not send it
                    was_running = self.running()
                    if self.send(client, build()) is None:
                        return  # state after an error is unknown: stop this person
                    if name == "launch":
                        e.visits += 1
                    elif name == "breathing":
                        e.last_technique, e.paused = technique, False
                    elif name in ("grounding", "resume"):
                        e.paused = False
                    elif name == "reflection":
                        e.reflections += 1
                        e.paused = False
                    elif name in ("pause", "stop", "silence") and was_running:
                        e.paused = True
                self.cycles += 1
        finally:
            client.close()


def audit(people: list[Person], database_url: str, prompts: int) -> list[str]:
    """Compare each stored record with the person's expected state."""
    store = open_store(database_url)
    problems = []
    try:
        for person in people:
            record = store.get_attributes(envelope_for(person.conversation.user_id))
            e = person.expected
            heard = ((e.reflections - 1) % prompts) + 1 if e.reflections else 0
            got = {
                "visits": record.get("visits", 0),
                "last_technique": record.get("last_technique"),
                "heard": len(record.get("heard") or []),
                "paused": "paused" in record,
            }
            want = {"visits": e.visits, "last_technique": e.last_technique, "heard": heard,
                    "paused": e.paused}
            if got != want:
                problems.append(f"person {person.index}: stored {got}, expected {want}")
    finally:
        store.dispose()
    return problems


def postgres_schema(base_url: str) -> tuple[str, str, object]:
    import sqlalchemy as sa

    schema = f"load_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base_url else "?"
    return f"{base_url}{separator}options=-csearch_path%3D{schema}", schema, admin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=None, help="default: as serve")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)

    tmp = Path(tempfile.mkdtemp(prefix="breathing-load-"))
    admin = schema = None
    if args.db == "sqlite":
        database_url = f"sqlite:///{tmp / 'load.sqlite3'}"
    else:
        database_url, schema, admin = postgres_schema(args.postgres_url)
    prompts = len(load_all(None)["en-US"].reflection.prompts)
    server = Server("dev", workers=args.workers,
                    env={"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
                    log=tmp / "server.log")
    try:
        server.wait_ready()
        deadline = time.monotonic() + args.seconds
        people = [Person(i, server.port, deadline) for i in range(args.users)]
        threads = [threading.Thread(target=p.run, daemon=True) for p in people]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 60)
        elapsed = time.perf_counter() - started
    finally:
        exit_code = server.stop()
    try:
        problems = audit(people, database_url, prompts)
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            admin.dispose()

    latencies = sorted(x for p in people for x in p.latencies)
    errors = [f"person {p.index}: {err}" for p in people for err in p.errors]
    print(f"load test on {args.db}: {args.users} people, {elapsed:.1f} s, "
          f"workers={args.workers or 'default'}")
    print(f"  requests      {len(latencies)} ({sum(p.cycles for p in people)} full cycles)")
    print(f"  throughput    {len(latencies) / elapsed:.1f} requests/s")
    if latencies:
        print(f"  latency       p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
              f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms, "
              f"mean {statistics.fmean(latencies) * 1000:.1f} ms")
    print(f"  errors        {len(errors)}")
    print(f"  state audit   {len(people) - len(problems)}/{len(people)} records exact, "
          f"{len(problems)} mismatches")
    print(f"  server exit   {exit_code} after SIGTERM")
    for line in (errors + problems)[:20]:
        print("   ", line)
    return 1 if errors or problems or exit_code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
