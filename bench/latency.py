"""In-process latency per request type, against a bare ask-sdk hello-world skill.

Both skills are served by a Flask app in this process and called through Flask's test client
with the same JSON envelopes, so the ratio isolates what Breathing Room adds (content,
routines, SSML, the SQLite record, verification gatekeeping) over the bare SDK path
(deserialize -> dispatch -> serialize). Ratios, not absolute times, are the result: absolute
times depend on the machine.

    .venv/bin/python bench/latency.py [--rounds 300]

The last line times production request verification alone (tests/certs.py's generated CA
standing in for Amazon's), with the certificate chain already cached, as on every request
after a worker's first.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.apps import bare_app  # noqa: E402  (the same bare skill the HTTP bench serves)
from skill.app import create_app  # noqa: E402
from skill.envelopes import DEV_SKILL_ID, Conversation  # noqa: E402


def scenarios(client) -> dict[str, bytes]:
    """One envelope per request type, each taken from a live conversation with our skill
    so it carries the session attributes a device would send at that point."""
    c = Conversation(skill_id=DEV_SKILL_ID)
    taken: dict[str, bytes] = {}

    def step(name: str | None, envelope: dict) -> None:
        body = json.dumps(envelope).encode()
        if name:
            taken[name] = body
        reply = client.post("/alexa", data=body, content_type="application/json")
        c.absorb(reply.get_json())

    step("launch", c.launch())
    step("breathing start", c.intent("BreathingIntent", {"technique": ("box", "BOX"),
                                                         "minutes": "10"}))
    step("breathing next", c.intent("AMAZON.NextIntent"))
    step("pace slower", c.intent("PaceIntent", {"pace": ("slower", "SLOWER")}))
    step("resume in session", c.intent("AMAZON.ResumeIntent"))
    step("pause", c.intent("AMAZON.PauseIntent"))
    step("grounding start", c.intent("GroundingIntent", new_session=True))
    step("help", c.intent("AMAZON.HelpIntent"))
    step("session ended", c.session_ended())
    step("reflection", c.intent("ReflectionIntent", new_session=True))
    step("crisis", c.intent("CrisisIntent", new_session=True))
    return taken


def timed_pair(ours, bare, body: bytes, rounds: int) -> tuple[float, float]:
    """Median seconds per POST for (ours, bare), alternating one call each per round so
    that machine noise (other processes, frequency changes) falls on both alike."""
    for client in (ours, bare):
        for _ in range(10):
            client.post("/alexa", data=body, content_type="application/json")
    samples: dict[int, list[float]] = {0: [], 1: []}
    for _ in range(rounds):
        for index, client in enumerate((ours, bare)):
            start = time.perf_counter()
            reply = client.post("/alexa", data=body, content_type="application/json")
            samples[index].append(time.perf_counter() - start)
            assert reply.status_code == 200, reply.get_data(as_text=True)
    return statistics.median(samples[0]), statistics.median(samples[1])


def verification_cost(rounds: int) -> float:
    """Median seconds of one full production check (URL rules, cached chain, RSA
    signature over the body, timestamp, skill id) with the certificate cache warm."""
    from cryptography.x509.verification import Store

    from skill.verification import RequestVerifier
    from tests.certs import pki, sign_body

    chain = pki().chain
    verifier = RequestVerifier(DEV_SKILL_ID, trust_store=Store([pki().root.cert]),
                               fetcher=lambda url, timeout: chain)
    envelope = Conversation(skill_id=DEV_SKILL_ID).launch()
    body = json.dumps(envelope).encode()
    headers = {"SignatureCertChainUrl": "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
               "Signature-256": sign_body(pki().leaf.key, body)}
    verifier.verify(headers, body, json.loads(body))  # downloads and caches the chain
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        verifier.verify(headers, body, json.loads(body))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args(argv)
    logging.disable(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        ours = create_app({
            "DEV": True,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "INSTANCE_PATH": tmp,
        }).test_client()
        bare = bare_app().test_client()
        rows = []
        for name, body in scenarios(ours).items():
            measured, baseline = timed_pair(ours, bare, body, args.rounds)
            rows.append((name, measured, baseline, measured / baseline))
        verify = verification_cost(args.rounds)
    print(f"{'request type':24} {'ours (ms)':>10} {'bare (ms)':>10} {'ratio':>7}")
    for name, measured, baseline, ratio in rows:
        print(f"{name:24} {measured * 1000:10.3f} {baseline * 1000:10.3f} {ratio:7.2f}")
    ratios = [r[3] for r in rows]
    print(f"{'median ratio':24} {'':>10} {'':>10} {statistics.median(ratios):7.2f}")
    bare_median = statistics.median(r[2] for r in rows)
    print(f"{'verification, warm cache':24} {verify * 1000:10.3f} {bare_median * 1000:10.3f} "
          f"{verify / bare_median:7.2f}   (vs the median bare request)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
