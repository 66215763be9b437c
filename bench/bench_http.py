"""HTTP benchmark of the diary API against a real Daphne, with /healthz as the floor.

    python bench/bench_http.py [--seconds 10] [--concurrency 16] [--entries 200]

Starts Daphne on 127.0.0.1 (DEBUG off; a temporary SQLite file, or DATABASE_URL / REDIS_URL
from the environment), signs in a user with --entries pain entries, then measures in turn
GET /healthz (a trivial JSON view: the floor), GET /api/diary/stats/ and POST /api/diary/stats/,
and prints requests/s, p50/p99 latency, errors, our figures as a share of the floor's, and the
server's memory. Targets: list >= 35% of the floor's requests/s, POST >= 50%.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadgen import Result, build_request, process_memory, run_load
from e2e.live_server import LiveServer

SETUP = """
from datetime import timedelta
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
print(accounts.issue_token(user=user).key)
"""


def row(result: Result, floor: Result | None) -> str:
    share = f"{100 * result.rps / floor.rps:6.1f}%" if floor and floor.rps else "  floor"
    return (
        f"{result.name:<28} {result.requests:>8} {result.rps:>9.1f} {result.percentile(0.5):>8.2f}"
        f" {result.percentile(0.99):>8.2f} {result.errors:>7} {share:>8}"
    )


async def measure(server: LiveServer, token: str, args: argparse.Namespace) -> list[Result]:
    auth = {"Authorization": f"Token {token}"}
    body = json.dumps({"body_part": 21, "pain_type": "burning", "intensity": 6}).encode()
    scenarios = [
        ("GET /healthz (floor)", build_request("GET", "/healthz", server.port), (200,)),
        (
            f"GET /api/diary/stats/ ({args.entries})",
            build_request("GET", "/api/diary/stats/", server.port, auth),
            (200,),
        ),
        (
            "POST /api/diary/stats/",
            build_request(
                "POST",
                "/api/diary/stats/",
                server.port,
                {**auth, "Content-Type": "application/json"},
                body,
            ),
            (201,),
        ),
    ]
    results = []
    for name, request, expect in scenarios:
        # A short warm-up, then the measured run.
        await run_load(name, server.port, request, seconds=1, concurrency=4, expect=expect)
        results.append(
            await run_load(
                name,
                server.port,
                request,
                seconds=args.seconds,
                concurrency=args.concurrency,
                max_requests=args.max_requests,
                expect=expect,
            )
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--max-requests", type=int, default=100_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        server = LiveServer(Path(tmp))
        server.start()
        try:
            token = (
                server.shell(SETUP.replace("ENTRIES", str(args.entries))).strip().splitlines()[-1]
            )
            results = asyncio.run(measure(server, token, args))
            memory = process_memory(server.pid)
        finally:
            server.stop()

    database = "PostgreSQL" if server.pg_admin_url else "SQLite"
    layer = "Redis" if server.env.get("REDIS_URL") else "in-memory"
    print(f"\nDiary API under Daphne ({database}, {layer} channel layer;")
    print(f"  {args.concurrency} connections, {args.seconds:g} s per scenario)")
    header = ("scenario", "requests", "req/s", "p50 ms", "p99 ms", "errors", "vs floor")
    print("{:<28} {:>8} {:>9} {:>8} {:>8} {:>7} {:>8}".format(*header))
    floor = results[0]
    for result in results:
        print(row(result, None if result is floor else floor))
    rss, peak = memory.get("VmRSS", 0) / 1024, memory.get("VmHWM", 0) / 1024
    print(f"server memory: {rss:.0f} MiB resident, {peak:.0f} MiB peak")
    for result, target, label in ((results[1], 0.35, "list"), (results[2], 0.50, "POST")):
        share = result.rps / floor.rps
        verdict = "met" if share >= target else "NOT met"
        print(f"target {label} >= {target:.0%} of the floor: {verdict} ({share:.0%})")
    if any(result.errors for result in results):
        print("errors by status:", {result.name: result.statuses for result in results})
        sys.exit(1)


if __name__ == "__main__":
    main()
