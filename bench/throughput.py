"""HTTP throughput, cold start and memory: Breathing Room vs a bare ask-sdk skill, both on
gunicorn with the settings of ``breathing-room serve``, measured in one run.

Ours runs with production verification ON: every request is signed (RSA SHA-256 over the
body) with a certificate chain from a CA this benchmark generates, and the server checks
the URL rules, the chain (downloaded once, then cached, as in production), the signature,
the timestamp and the skill id. The bare skill has no verification at all (ask-sdk does
none); it gets the same bodies and headers.

The clients are threads in this process with one keep-alive connection each, posting the
same pre-signed bodies to both servers (signing happens before timing, so the client does
the same work for both). Client and server share this machine's cores, so next to
requests/s the benchmark reads the server's own CPU time (master + workers, from /proc)
and reports CPU per request, which does not depend on the client.

    .venv/bin/python bench/throughput.py [--seconds 10] [--clients 16] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.apps import SKILL_ID, load_signing_key, signed_headers, write_pki  # noqa: E402
from bench.common import Client, Server  # noqa: E402
from skill.envelopes import Conversation  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def conversation_bodies(people: int) -> list[bytes]:
    """Real request bodies with realistic sessions, captured from an in-process run of
    our skill (so "next" and "pause" carry a running practice, as a device would send)."""
    from skill.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DEV": True, "ALEXA_SKILL_ID": SKILL_ID,
                          "DATABASE_URL": f"sqlite:///{tmp}/capture.sqlite3"})
        client = app.test_client()
        bodies = []
        for _ in range(people):
            c = Conversation(skill_id=SKILL_ID)
            for envelope in (
                c.launch(),
                c.intent("BreathingIntent", {"technique": ("box", "BOX"), "minutes": "10"}),
                c.intent("AMAZON.NextIntent"),
                c.intent("AMAZON.PauseIntent"),
                c.intent("AMAZON.ResumeIntent", new_session=True),
                c.intent("AMAZON.HelpIntent"),
                c.intent("GroundingIntent", new_session=True),
                c.session_ended(),
            ):
                body = json.dumps(envelope).encode()
                bodies.append(body)
                c.absorb(client.post("/alexa", data=body, content_type="application/json")
                         .get_json())
        app.extensions["breathing_room"].store.dispose()
    return bodies


def process_tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid] + [int(c) for c in children]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / TICKS


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB: PSS splits pages shared with the preloaded master fairly."""
    rss = pss = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


def drive(port: int, requests: list[tuple[bytes, dict]], clients: int,
          seconds: float) -> tuple[int, int, list[float]]:
    """``clients`` threads post round-robin until the deadline: (ok, errors, latencies)."""
    deadline = time.monotonic() + seconds
    results: list[tuple[int, int, list[float]]] = []
    lock = threading.Lock()

    def run(offset: int) -> None:
        client = Client(port)
        ok = errors = 0
        latencies: list[float] = []
        i = offset
        try:
            while time.monotonic() < deadline and i < offset + 10_000_000:
                body, headers = requests[i % len(requests)]
                i += 1
                start = time.perf_counter()
                try:
                    status, _ = client.post(body, headers)
                except Exception:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - start)
                if status == 200:
                    ok += 1
                else:
                    errors += 1
        finally:
            client.close()
            with lock:
                results.append((ok, errors, latencies))

    threads = [threading.Thread(target=run, args=(n * 7,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    return (sum(r[0] for r in results), sum(r[1] for r in results),
            [x for r in results for x in r[2]])


def first_answer(server: Server, body: bytes, headers: dict, limit: float = 60) -> float:
    """Seconds from process start to the first 200 answer to a real skill request."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError("server exited")
        try:
            client = Client(server.port)
            status, _ = client.post(body, headers)
            client.close()
            if status == 200:
                return time.perf_counter() - server.started
        except OSError:
            pass
        time.sleep(0.005)
    raise RuntimeError("no answer")


def measure(app: str, args, tmp: Path, requests, probe) -> dict:
    env = {"BENCH_PKI": str(tmp / "pki"), "DATABASE_URL": f"sqlite:///{tmp / (app + '.db')}"}
    server = Server(app, workers=args.workers, env=env, log=tmp / f"{app}.log")
    try:
        cold = first_answer(server, *probe)
        drive(server.port, requests, args.clients, 1.0)  # warm every worker
        pids = process_tree(server.process.pid)
        cpu_before = cpu_seconds(pids)
        started = time.perf_counter()
        ok, errors, latencies = drive(server.port, requests, args.clients, args.seconds)
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(pids) - cpu_before
        workers = [memory_kb(pid) for pid in pids[1:]]
    finally:
        exit_code = server.stop()
    latencies.sort()
    return {
        "rps": ok / elapsed, "errors": errors, "cpu_ms": cpu / max(ok, 1) * 1000,
        "p50": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "cold": cold, "rss": statistics.mean(w[0] for w in workers) / 1024,
        "pss": statistics.mean(w[1] for w in workers) / 1024, "workers": len(workers),
        "exit": exit_code,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None, help="default: as serve")
    parser.add_argument("--rounds", type=int, default=2, help="bare/ours alternations")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)

    tmp = Path(tempfile.mkdtemp(prefix="breathing-throughput-"))
    write_pki(tmp / "pki")
    key = load_signing_key(tmp / "pki")
    results: dict[str, list[dict]] = {"bare": [], "ours": []}
    for _ in range(args.rounds):
        for app in ("bare", "ours"):
            bodies = conversation_bodies(6)  # fresh timestamps: within the 150 s window
            requests = [(b, signed_headers(key, b)) for b in bodies]
            probe_body = json.dumps(Conversation(skill_id=SKILL_ID).launch()).encode()
            probe = (probe_body, signed_headers(key, probe_body))
            results[app].append(measure(app, args, tmp, requests, probe))

    def med(app: str, key: str) -> float:
        return statistics.median(r[key] for r in results[app])

    workers = results["ours"][0]["workers"]
    print(f"gunicorn, {workers} sync workers each, {args.clients} keep-alive clients, "
          f"{args.seconds:.0f} s x {args.rounds} rounds per app (median shown)")
    print(f"{'':28} {'ours':>10} {'bare':>10} {'ratio':>7}")
    rows = [
        ("throughput (requests/s)", "rps", "{:10.0f}"),
        ("server CPU per request (ms)", "cpu_ms", "{:10.2f}"),
        ("latency p50 (ms)", "p50", "{:10.1f}"),
        ("cold start to 1st answer (s)", "cold", "{:10.2f}"),
        ("memory per worker RSS (MB)", "rss", "{:10.1f}"),
        ("memory per worker PSS (MB)", "pss", "{:10.1f}"),
    ]
    for label, key_, fmt in rows:
        ours, bare = med("ours", key_), med("bare", key_)
        print(f"{label:28} {fmt.format(ours)} {fmt.format(bare)} {ours / bare:7.2f}")
    errors = sum(r["errors"] for rs in results.values() for r in rs)
    exits = {r["exit"] for rs in results.values() for r in rs}
    print(f"errors: {errors}; server exit codes after SIGTERM: {sorted(exits)}")
    return 1 if errors or exits != {0} else 0


if __name__ == "__main__":
    sys.exit(main())
