"""HTTP benchmark: Painmap's routes and pages as a ratio of a bare Django floor, in one run.

    python bench/bench_http.py [--seconds 3] [--rounds 3] [--entries 200]

Starts two Daphne processes on 127.0.0.1: Painmap (DEBUG off; a temporary SQLite file, or
DATABASE_URL / REDIS_URL from the environment) and the bare floor (bench/bare_http: no
middleware, no database, one sync view returning constant JSON). Each round measures every
scenario on Painmap and, right after, the floor at the same concurrency; the figures are the
medians of the rounds. For each: requests/s, p50/p99 latency, the server's CPU time per request
(its process's user + system time from /proc, before and after), Painmap's ratio to the floor,
and the machine's 1-minute load average while it ran (a busy machine shrinks every figure, the
ratios less). Targets (issue 13): JSON routes >= 0.6 of the floor's requests/s, POST >= 0.5,
each at most 2x the floor's CPU per request; on PostgreSQL + Redis within 20% (>= 0.48 and
0.4, at most 2.4x). A line under a scenario says when it missed them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.loadgen import (  # noqa: E402
    Result,
    build_request,
    process_cpu_seconds,
    process_memory,
    run_load,
)
from e2e.live_server import LiveServer, free_port  # noqa: E402

SETUP = """
from datetime import timedelta
from django.test import Client
from django.utils import timezone
from accounts import services as accounts
from diary.models import BodyPart, PainEntry, PainType
user = accounts.register_user(username="bench", email="b@example.com", password="bench-pass-123")
parts, types, now = list(BodyPart.objects.all()), PainType.values, timezone.now()
PainEntry.objects.bulk_create(
    PainEntry(owner=user, body_part=parts[i % 44], pain_type=types[i % 4], intensity=i % 11,
              description="entry %d" % i, date_recorded=now - timedelta(hours=i))
    for i in range(ENTRIES)
)
# The POST scenario writes as someone else: the list the GET scenario reads stays ENTRIES long.
poster = accounts.register_user(username="poster", email="p@example.com", password="bench-pass-123")
client = Client()
client.force_login(user)
print(accounts.issue_token(user=user).key, accounts.issue_token(user=poster).key,
      client.cookies["sessionid"].value)
"""


@dataclass
class Scenario:
    name: str
    request: bytes
    concurrency: int
    expect: tuple[int, ...] = (200,)
    target: float | None = None


@dataclass
class Measure:
    result: Result
    cpu_ms: float  # server CPU per answered request
    load: float  # 1-minute load average at the end


APP = "bench.bare_http.asgi:application"
MAX_CPU_X = 2.0  # issue 13: CPU per request at most 2x the floor's


class BareFloor:
    """bench/bare_http served by Daphne, in a process of its own."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.log = open(tmp / "bare.log", "wb")  # noqa: SIM115
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.bare_http.settings"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), APP],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the bare floor's daphne exited: see " + self.log.name)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the bare floor did not answer in 60 s")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


async def measure(pid: int, port: int, scenario: Scenario, seconds: float) -> Measure:
    before = process_cpu_seconds(pid)
    result = await run_load(
        scenario.name,
        port,
        scenario.request,
        seconds=seconds,
        concurrency=scenario.concurrency,
        max_requests=200_000,
        expect=scenario.expect,
    )
    cpu = process_cpu_seconds(pid) - before
    answered = max(1, len(result.latencies))
    return Measure(result, 1000 * cpu / answered, load_average())


def scenarios(port: int, token: str, poster: str, session: str, entries: int) -> list[Scenario]:
    auth = {"Authorization": f"Token {token}"}
    cookie = {"Cookie": f"sessionid={session}", "Accept-Encoding": "gzip"}
    body = json.dumps({"body_part": 21, "pain_type": "burning", "intensity": 6}).encode()
    json_post = {"Authorization": f"Token {poster}", "Content-Type": "application/json"}
    return [
        Scenario(
            f"GET /api/diary/stats/ ({entries})",
            build_request("GET", "/api/diary/stats/", port, auth),
            16,
            target=0.6,
        ),
        Scenario(
            "POST /api/diary/stats/",
            build_request("POST", "/api/diary/stats/", port, json_post, body),
            8,
            (201,),
            target=0.5,
        ),
        Scenario(
            "GET /api/diary/bodyparts/",
            build_request("GET", "/api/diary/bodyparts/", port, auth),
            16,
            target=0.6,
        ),
        Scenario("GET /diary/ (page)", build_request("GET", "/diary/", port, cookie), 8),
        Scenario(
            "GET /diary/digest/ (page)", build_request("GET", "/diary/digest/", port, cookie), 8
        ),
    ]


def median_measure(measures: list[Measure]) -> Measure:
    """The round with the median requests/s (its latencies and CPU go with it)."""
    ordered = sorted(measures, key=lambda m: m.result.rps)
    return ordered[len(ordered) // 2]


async def run(args: argparse.Namespace, server: LiveServer, floor: BareFloor, creds: list[str]):
    token, poster, session = creds
    painmap = scenarios(server.port, token, poster, session, args.entries)
    bare = {c: build_request("GET", "/", floor.port) for c in {s.concurrency for s in painmap}}
    # Warm both (imports, template loading, the first connections).
    for scenario in painmap:
        await run_load("warm", server.port, scenario.request, seconds=0.5, concurrency=2,
                       expect=scenario.expect)  # fmt: skip
    await run_load("warm", floor.port, bare[16], seconds=0.5, concurrency=2)
    ours: dict[str, list[Measure]] = {s.name: [] for s in painmap}
    theirs: dict[str, list[Measure]] = {s.name: [] for s in painmap}
    for round_ in range(args.rounds):
        for scenario in painmap:
            ours[scenario.name].append(
                await measure(server.pid, server.port, scenario, args.seconds)
            )
            floor_scenario = Scenario("floor", bare[scenario.concurrency], scenario.concurrency)
            theirs[scenario.name].append(
                await measure(floor.pid, floor.port, floor_scenario, args.seconds)
            )
        print(f"round {round_ + 1}/{args.rounds} done (load {load_average():.2f})", flush=True)
    return painmap, ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--entries", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp))
        server.start()
        floor = BareFloor(Path(tmp))
        try:
            creds = server.shell(SETUP.replace("ENTRIES", str(args.entries))).split()[-3:]
            painmap, ours, theirs = asyncio.run(run(args, server, floor, creds))
            memory = process_memory(server.pid)
        finally:
            floor.stop()
            server.stop()

    database = "PostgreSQL" if server.pg_admin_url else "SQLite"
    layer = "Redis" if server.env.get("REDIS_URL") else "in-memory"
    print(f"\nPainmap under Daphne ({database}, {layer} channel layer) vs the bare floor;")
    rounds = f"{args.rounds} alternating rounds of {args.seconds:g} s"
    print(f"  medians of {rounds}, {os.cpu_count()} CPUs")
    header = ("scenario", "conns", "req/s", "p50", "p99", "CPU ms", "floor r/s", "CPU ms")
    print("{:<30} {:>5} {:>8} {:>7} {:>7} {:>7} | {:>9} {:>7} |".format(*header), end="")
    print(" {:>6} {:>6} {:>5}".format("ratio", "CPU x", "load"))
    failed = False
    # Issue 13: PostgreSQL + Redis meets the targets within 20%.
    slack_ratio, slack_cpu = (0.8, 1.2) if server.pg_admin_url else (1.0, 1.0)
    for scenario in painmap:
        mine, base = median_measure(ours[scenario.name]), median_measure(theirs[scenario.name])
        ratio = mine.result.rps / base.result.rps if base.result.rps else 0.0
        loads = [m.load for m in ours[scenario.name] + theirs[scenario.name]]
        print(
            f"{scenario.name:<30} {scenario.concurrency:>5} {mine.result.rps:>8.0f}"
            f" {mine.result.percentile(0.5):>7.2f} {mine.result.percentile(0.99):>7.2f}"
            f" {mine.cpu_ms:>7.2f} | {base.result.rps:>9.0f} {base.cpu_ms:>7.2f} |"
            f" {ratio:>6.2f} {mine.cpu_ms / base.cpu_ms:>6.2f} {statistics.median(loads):>5.2f}"
        )
        errors = sum(m.result.errors for m in ours[scenario.name])
        if errors:
            failed = True
            print(f"  errors: {errors} ({[m.result.statuses for m in ours[scenario.name]]})")
        if scenario.target is not None:
            cpu_x = mine.cpu_ms / base.cpu_ms
            least, most = scenario.target * slack_ratio, MAX_CPU_X * slack_cpu
            if ratio < least or cpu_x > most:
                print(f"  target NOT met: req/s >= {least:.2f} of the floor's, CPU <= {most:.1f}x")
    rss, peak = memory.get("VmRSS", 0) / 1024, memory.get("VmHWM", 0) / 1024
    print(f"Painmap server memory: {rss:.0f} MiB resident, {peak:.0f} MiB peak")
    print("p50/p99 in ms; CPU ms = server CPU time per request; ratio = req/s / floor's;")
    print("CPU x = CPU per request / floor's; load = median 1-minute load average while measured")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
