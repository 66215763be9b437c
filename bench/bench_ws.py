"""WebSocket benchmark: Painmap's chat against a bare Channels relay, both measured in one run.

    python bench/bench_ws.py                      # handshakes, 20 pairs x 10 msg/s for 30 s
    python bench/bench_ws.py --saturate           # 100 pairs (past saturation on 2 cores)
    python bench/bench_ws.py --idle 5000          # + memory of 5,000 idle sockets, and a burst
                                                  #   of 50 frames with them open
    python bench/bench_ws.py --pairs 5 --duration 5 --handshakes 100
    REDIS_URL=... python bench/bench_ws.py --floor-layer redis   # the relay on Redis too
    python bench/bench_ws.py --pairs 1 --duration 1 --handshakes 3000 --rounds 10 \
        --variant REALTIME_OWN_DATABASE_THREAD=0  # what one trick buys, in the same rounds

Two Daphne processes on 127.0.0.1: Painmap (config.asgi, a temp SQLite file, or DATABASE_URL /
REDIS_URL from the environment) and the floor, bench/bare_ws (a bare Channels project: no
database, no auth, Channels' in-memory layer; channels_redis's Pub/Sub on REDIS_URL with
`--floor-layer redis`). Phases, each on both servers:

- handshakes: open and close `--handshakes` sockets (token sockets on Painmap, 10 at a time),
  in `--rounds` rounds alternating between the servers after 100 uncounted ones; server CPU per
  handshake, handshakes per second, and the ratio in each round. With `--variant`, a second
  Painmap process with other settings (same database) takes part in the same rounds: a trick's
  effect is a few percent, less than the drift between two runs on this kind of machine.
- load: each pair's two sides send alternately at the set rate; every frame carries (pair, side,
  seq, send time). Delivered vs sent at the peer, duplicates, order, latency send -> arrival at
  the peer, connect time, history-on-connect time, server CPU per message (/proc/<pid>/stat).
- idle (with --idle N): N sockets opened and left idle; the server's RSS growth (VmRSS) per
  socket and in all; then, with them open, one pair sends a burst of 50 frames: p50/p99.

Figures are only comparable within one run on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadgen import process_cpu_seconds, process_memory
from e2e.live_server import ROOT, LiveServer, free_port


def origin_of(ws_url: str) -> str:
    """The page origin a browser would send for this socket: scheme, host and port (checked)."""
    parts = urlsplit(ws_url)
    return f"{'https' if parts.scheme == 'wss' else 'http'}://{parts.netloc}"


WARM_UP = 100  # handshakes on each server before the counted rounds
HISTORY = 50  # messages stored per pair before the run, to time history-on-connect
DRAIN_LIMIT = 120.0  # seconds to wait after sending for late messages
DRAIN_STALL = 5.0  # ... unless nothing arrives for this long: the rest is lost


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


class Measured:
    """What the benchmark reads of a server process."""

    pid: int

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)

    async def settle(self, limit: float = 60.0) -> None:
        """Wait until the server is idle, so one phase's backlog is not billed to the next."""
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline:
            before = self.cpu_seconds()
            await asyncio.sleep(1.0)
            if self.cpu_seconds() - before < 0.05:
                return

    def vm(self, key: str) -> int:
        return process_memory(self.pid).get(key, 0)


class Server(Measured, LiveServer):
    """Painmap: the shared live Daphne (e2e/live_server.py) and the figures the benchmark reads."""

    def __init__(
        self,
        tmp: Path,
        extra_env: dict[str, str] | None = None,
        same_database_as: LiveServer | None = None,
    ) -> None:
        # The chat's flood guard (10 frames/s per socket) would turn a fast run's frames into
        # errors; the bare relay has none, and the benchmark measures delivery: lifted.
        super().__init__(
            tmp,
            extra_env={"CHAT_RATE_PER_SECOND": "100000", **(extra_env or {})},
            same_database_as=same_database_as,
        )


APP = "bench.bare_ws.asgi:application"


class BareServer(Measured):
    """The floor: bench/bare_ws in a Daphne process of its own."""

    def __init__(self, tmp: Path, redis_url: str = "") -> None:
        self.port = free_port()
        self.log_path = tmp / f"bare-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.redis_url = redis_url  # empty: Channels' in-memory layer

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.bare_ws.settings",
            "BARE_WS_REDIS_URL": self.redis_url,
        }
        self.log = open(self.log_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), APP],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.process.pid
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bare relay exited:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the bare relay did not answer in 60 s")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.log.close()


def create_users(
    server: Server, pairs: int, prefix: str, history: int = HISTORY
) -> list[tuple[str, str, str, str]]:
    """`pairs` pairs of users with tokens and `history` stored messages each, in one shell call."""
    code = f"""
import json
from accounts.models import User
from rest_framework.authtoken.models import Token
from messaging.models import Message
from django.contrib.auth.hashers import make_password
pw = make_password("bench-pass-42")
names = [f"{prefix}{{i}}{{s}}" for i in range({pairs}) for s in "ab"]
User.objects.bulk_create(
    [User(username=n, email=n + "@example.com", password=pw) for n in names]
)
users = list(User.objects.filter(username__in=names).order_by("id"))
by_name = {{u.username: u for u in users}}
Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in users])
# Each pair is a patient (a) and their doctor (b): chat needs an active care link.
from django.contrib.auth.models import Group
from accounts.models import CareLink
Group.objects.get(name="Doctors").user_set.add(*[u for u in users if u.username.endswith("b")])
CareLink.objects.bulk_create(
    [CareLink(patient=by_name[f"{prefix}{{i}}a"], doctor=by_name[f"{prefix}{{i}}b"],
              status="active") for i in range({pairs})]
)
tokens = dict(Token.objects.filter(user__in=users).values_list("user__username", "key"))
msgs = []
for i in range({pairs}):
    a, b = by_name[f"{prefix}{{i}}a"], by_name[f"{prefix}{{i}}b"]
    for k in range({history}):
        s, r = (a, b) if k % 2 else (b, a)
        msgs.append(Message(sender=s, receiver=r, text=f"history {{k}}"))
Message.objects.bulk_create(msgs, batch_size=2000)
print(json.dumps(tokens))
"""
    tokens = json.loads(server.manage("shell", "-c", code).strip().splitlines()[-1])
    return [
        (f"{prefix}{i}a", tokens[f"{prefix}{i}a"], f"{prefix}{i}b", tokens[f"{prefix}{i}b"])
        for i in range(pairs)
    ]


@dataclass
class Side:
    name: str
    url: str
    sent: int = 0
    received_from_peer: list[tuple[int, float]] = field(default_factory=list)  # (seq, latency)
    duplicates: int = 0
    out_of_order: int = 0
    errors: int = 0
    connect_s: float = 0.0
    history_s: float | None = None
    last_arrival: float = 0.0


@dataclass
class Result:
    label: str
    sides: list[Side]
    elapsed: float
    cpu: float
    hwm_kb: int
    rss_kb: int
    sent: int = 0

    @property
    def delivered(self) -> int:
        return sum(len(s.received_from_peer) for s in self.sides)

    @property
    def latencies(self) -> list[float]:
        return [lat for s in self.sides for _, lat in s.received_from_peer]


async def run_side(
    side: Side,
    peer: Side,
    index: int,
    start: float,
    duration: float,
    interval: float,
    offset: float,
    history: int,
    ready: asyncio.Event,
    stop: asyncio.Event,
    payload: callable,
) -> None:
    t0 = time.perf_counter()
    async with connect(
        side.url, origin=origin_of(side.url), max_queue=None, ping_interval=None
    ) as ws:
        side.connect_s = time.perf_counter() - t0
        for _ in range(history):
            await ws.recv()
        if history:
            side.history_s = time.perf_counter() - t0
        seen: set[tuple[int, int]] = set()
        last_seq = {0: -1, 1: -1}

        async def reader() -> None:
            try:
                async for raw in ws:
                    text = raw
                    if raw.startswith("{"):
                        data = json.loads(raw)
                        if "message" not in data:
                            side.errors += 1
                            continue
                        text = data["message"]
                    try:
                        _pair, who, seq, sent_at = text.split(":")
                        who, seq = int(who), int(seq)
                    except ValueError:  # not one of ours: count it, keep reading
                        side.errors += 1
                        continue
                    if (who, seq) in seen:
                        side.duplicates += 1
                        continue
                    seen.add((who, seq))
                    if seq < last_seq[who]:
                        side.out_of_order += 1
                    last_seq[who] = seq
                    if who != index:
                        side.last_arrival = time.perf_counter()
                        side.received_from_peer.append((seq, side.last_arrival - float(sent_at)))
            except Exception:  # the socket closes at the end
                pass

        task = asyncio.create_task(reader())
        ready.set()
        await asyncio.sleep(max(0.0, start - time.perf_counter()) + offset)
        seq = 0
        next_at = time.perf_counter()
        while time.perf_counter() < start + duration:
            await ws.send(payload(f"p:{index}:{seq}:{time.perf_counter():.6f}"))
            side.sent += 1
            seq += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await stop.wait()
        task.cancel()


async def run_load(
    server: Server,
    label: str,
    urls: list[tuple[str, str]],
    rate: float,
    duration: float,
    history: int,
    payload: callable,
) -> Result:
    interval = 2 / rate  # each side sends half the pair's rate
    sides = [(Side("a", a), Side("b", b)) for a, b in urls]
    ready = [asyncio.Event() for _ in range(2 * len(sides))]
    stop = asyncio.Event()
    start = time.perf_counter() + 3 + len(sides) * 0.02  # everyone connected first
    tasks = []
    for i, (a, b) in enumerate(sides):
        offset = (i / max(1, len(sides))) * interval  # spread the pairs over the interval
        tasks.append(
            asyncio.create_task(
                run_side(
                    a, b, 0, start, duration, interval, offset, history, ready[2 * i], stop, payload
                )
            )
        )
        tasks.append(
            asyncio.create_task(
                run_side(
                    b,
                    a,
                    1,
                    start,
                    duration,
                    interval,
                    offset + interval / 2,
                    history,
                    ready[2 * i + 1],
                    stop,
                    payload,
                )
            )
        )
    try:  # bounded: a side that never connects ends the run rather than hanging it
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in ready)), 120)
    except TimeoutError:
        print(f"  {sum(not e.is_set() for e in ready)} sockets did not connect in 120 s")
    await asyncio.sleep(max(0.0, start - time.perf_counter()))
    cpu0 = server.cpu_seconds()
    await asyncio.sleep(duration)
    flat = [s for pair in sides for s in pair]
    # Drain: past saturation messages arrive late, and late is not lost. Wait until every sent
    # message arrived at its peer; give up when nothing arrived for DRAIN_STALL seconds (those
    # are lost) or after DRAIN_LIMIT. The rate is over the time to the last arrival.
    deadline = time.perf_counter() + DRAIN_LIMIT
    count, progress_at = -1, time.perf_counter()
    while time.perf_counter() < deadline:
        if all(
            len(b.received_from_peer) >= a.sent and len(a.received_from_peer) >= b.sent
            for a, b in sides
        ):
            break
        arrived = sum(len(s.received_from_peer) for pair in sides for s in pair)
        if arrived != count:
            count, progress_at = arrived, time.perf_counter()
        elif time.perf_counter() - progress_at > DRAIN_STALL:
            break
        await asyncio.sleep(0.1)
    last = max((s.last_arrival for pair in sides for s in pair), default=0.0)
    elapsed = max(last, start + duration) - start
    cpu = server.cpu_seconds() - cpu0
    stop.set()
    for task in tasks:  # a saturated server may never answer the close handshake
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    result = Result(label, flat, elapsed, cpu, server.vm("VmHWM"), server.vm("VmRSS"))
    result.sent = sum(s.sent for s in flat)
    return result


def report(result: Result, floor: Result | None) -> None:
    lat = result.latencies
    connects = [s.connect_s for s in result.sides]
    histories = [s.history_s for s in result.sides if s.history_s is not None]
    dup = sum(s.duplicates for s in result.sides)
    order = sum(s.out_of_order for s in result.sides)
    errors = sum(s.errors for s in result.sides)
    rate = result.delivered / result.elapsed
    cpu_per_msg = result.cpu / max(1, result.delivered)  # per message actually carried
    share = 100 * result.delivered / max(1, result.sent)

    def ms(values: list[float]) -> str:
        return f"{pct(values, 50) * 1000:.1f} / {pct(values, 99) * 1000:.1f} ms"

    print(f"\n== {result.label}")
    print(f"  delivered to peer : {result.delivered}/{result.sent} ({share:.1f}%)")
    print(f"  duplicates {dup}, out of order {order}, error frames {errors}")
    print(f"  delivered msg/s   : {rate:.0f}")
    print(f"  latency p50/p99   : {ms(lat)}")
    print(f"  connect p50/p99   : {ms(connects)}")
    if histories:
        print(f"  history of {HISTORY} messages on connect p50/p99: {ms(histories)}")
    print(f"  server CPU/message: {cpu_per_msg * 1e6:.0f} µs ({result.cpu:.2f} s CPU)")
    hwm, rss = result.hwm_kb / 1024, result.rss_kb / 1024
    print(f"  server memory     : VmHWM {hwm:.0f} MiB, VmRSS {rss:.0f} MiB")
    if floor is not None and floor.delivered and floor.latencies:
        f_lat = floor.latencies
        f_rate = floor.delivered / floor.elapsed
        f_cpu = floor.cpu / max(1, floor.delivered)
        p99 = pct(lat, 99) / pct(f_lat, 99)
        p50 = pct(lat, 50) / pct(f_lat, 50)
        print(
            f"  vs floor          : p99 x{p99:.2f}, p50 x{p50:.2f}, msg/s x{rate / f_rate:.2f}, "
            f"CPU/message x{cpu_per_msg / f_cpu:.2f}"
        )


async def handshake_round(
    server: Measured, urls: list[str], count: int
) -> tuple[float, float, int]:
    """Open and close `count` sockets, 10 at a time: (server CPU s, seconds, failures)."""
    await server.settle()
    failed = 0
    queue = [urls[i % len(urls)] for i in range(count)]

    async def worker() -> None:
        nonlocal failed
        while queue:
            url = queue.pop()
            try:
                async with connect(url, origin=origin_of(url), ping_interval=None, open_timeout=30):
                    pass
            except Exception:
                failed += 1

    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(10)))
    elapsed = time.perf_counter() - t0
    await server.settle()  # the closes' work is the handshakes' too
    return server.cpu_seconds() - cpu0, elapsed, failed


async def handshakes(
    servers: dict[str, tuple[Measured, list[str]]], count: int, rounds: int
) -> dict:
    """`count` handshakes on each server, in `rounds` alternating rounds (so that a machine
    whose speed drifts during the run weighs on all alike); CPU per handshake, handshakes/s,
    and the ratio of each other server to the first in each round."""
    for server, urls in servers.values():  # warm-up, not counted: first connections, caches
        await handshake_round(server, urls, min(count, WARM_UP))
    totals = {label: [0.0, 0.0, 0] for label in servers}
    per_round: dict[str, list[float]] = {label: [] for label in list(servers)[1:]}
    for i in range(rounds):
        share = count // rounds + (1 if i < count % rounds else 0)
        cpu_ms = {}
        for label, (server, urls) in servers.items():
            cpu, elapsed, failed = await handshake_round(server, urls, share)
            total = totals[label]
            total[0] += cpu
            total[1] += elapsed
            total[2] += failed
            cpu_ms[label] = 1000 * cpu / max(1, share - failed)
        first = next(iter(cpu_ms.values()))
        for label, ratios in per_round.items():
            ratios.append(cpu_ms[label] / first if first else float("nan"))
    figures = {}
    for label, (cpu, elapsed, failed) in totals.items():
        done = count - failed
        figures[label] = {"cpu_ms": 1000 * cpu / max(1, done), "per_s": done / elapsed}
        print(
            f"\n== handshakes: {label}\n  {done}/{count} in {elapsed:.1f} s"
            f" ({figures[label]['per_s']:.0f}/s), server CPU {figures[label]['cpu_ms']:.2f} ms"
            " per handshake (open + close)"
        )
    figures["rounds"] = per_round
    return figures


async def idle_and_burst(
    server: Measured, label: str, idle_urls: list[str], pair: tuple[str, str], frame
) -> dict:
    """Open every idle URL and leave it open; the server's RSS growth. Then one pair sends a
    burst of 50 frames (25 each side, at once): latency to the peer, p50/p99."""
    await server.settle()
    rss0 = server.vm("VmRSS")
    sockets = []
    t0 = time.perf_counter()
    failed = 0
    for start in range(0, len(idle_urls), 100):  # 100 handshakes in flight at most
        batch = idle_urls[start : start + 100]
        opened = await asyncio.gather(
            *(
                connect(u, origin=origin_of(u), ping_interval=None, open_timeout=60, max_queue=None)
                for u in batch
            ),
            return_exceptions=True,
        )
        for ws in opened:
            if isinstance(ws, Exception):
                failed += 1
            else:
                sockets.append(ws)
    connect_s = time.perf_counter() - t0
    await server.settle()
    rss = server.vm("VmRSS")
    grown = (rss - rss0) / 1024
    print(
        f"\n== {len(sockets)} idle sockets: {label} ({failed} failed)\n"
        f"  connected in {connect_s:.1f} s; server VmRSS {rss / 1024:.0f} MiB "
        f"(+{grown:.0f} MiB, {1024 * grown / max(1, len(sockets)):.1f} KiB per socket)"
    )
    latencies: list[float] = []
    try:
        a_url, b_url = pair
        async with (
            connect(a_url, origin=origin_of(a_url), ping_interval=None, max_queue=None) as a,
            connect(b_url, origin=origin_of(b_url), ping_interval=None, max_queue=None) as b,
        ):
            await asyncio.sleep(0.5)
            sent: dict[str, float] = {}

            async def collect(ws, mine: str) -> None:
                while True:
                    raw = await ws.recv()
                    text = json.loads(raw)["message"] if raw.startswith("{") else raw
                    if text in sent and not text.startswith(mine):
                        latencies.append(time.perf_counter() - sent[text])

            readers = [asyncio.create_task(collect(a, "a")), asyncio.create_task(collect(b, "b"))]
            for i in range(25):
                for side, ws in (("a", a), ("b", b)):
                    text = f"{side}-burst-{i}"
                    sent[text] = time.perf_counter()
                    await ws.send(frame(text))
            deadline = time.perf_counter() + 60
            while len(latencies) < 50 and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
            for task in readers:
                task.cancel()
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    figures = {
        "rss_mib": rss / 1024,
        "grown_mib": grown,
        "p50_ms": 1000 * pct(latencies, 50),
        "p99_ms": 1000 * pct(latencies, 99),
        "delivered": len(latencies),
    }
    print(
        f"  burst of 50 frames with them open: {len(latencies)}/50 delivered, "
        f"p50/p99 {figures['p50_ms']:.1f} / {figures['p99_ms']:.1f} ms"
    )
    return figures


def ratio(ours: float, floor: float) -> str:
    return f"x{ours / floor:.2f}" if floor else "n/a"


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second per pair")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of sending (max 120)")
    parser.add_argument("--saturate", action="store_true", help="100 pairs, past saturation")
    parser.add_argument("--handshakes", type=int, default=300, help="0 skips (max 5000)")
    parser.add_argument("--idle", type=int, default=0, help="idle sockets to open (max 10000)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds of the handshakes (1-20)"
    )
    parser.add_argument(
        "--floor-layer",
        choices=["memory", "redis"],
        default="memory",
        help="the relay's channel layer: Channels' in-memory one (the floor of the targets), or"
        " channels_redis's Pub/Sub on REDIS_URL (what Redis costs any Channels app)",
    )
    parser.add_argument(
        "--variant",
        metavar="NAME=VALUE[,NAME=VALUE]",
        help="handshakes also on a second Painmap process with these settings (same database),"
        " in the same alternating rounds: what one speed trick buys, e.g."
        " --variant REALTIME_OWN_DATABASE_THREAD=0",
    )
    args = parser.parse_args()
    if args.floor_layer == "redis" and not os.environ.get("REDIS_URL"):
        parser.error("--floor-layer redis needs REDIS_URL")
    variant_env: dict[str, str] = {}
    for pair in (args.variant or "").split(","):
        if pair.strip():
            name, sep, value = pair.strip().partition("=")
            if not sep or not name:
                parser.error(f"--variant takes NAME=VALUE pairs, not {pair!r}")
            variant_env[name] = value
    if args.saturate:
        args.pairs = 100
    args.duration = min(args.duration, 120.0)
    args.pairs = min(args.pairs, 500)
    args.handshakes = min(args.handshakes, 5000)
    args.idle = min(args.idle, 10_000)
    args.rounds = max(1, min(args.rounds, 20))
    layer = "Redis" if os.environ.get("REDIS_URL") else "in-memory"
    db = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    print(
        f"bench_ws: {args.pairs} pairs x {args.rate:g} msg/s per pair for {args.duration:g} s; "
        f"{db}, {layer} channel layer (the relay: {args.floor_layer}); {os.cpu_count()} CPUs;"
        " load average "
        f"{os.getloadavg()[0]:.1f} at the start"
    )
    with tempfile.TemporaryDirectory() as tmp:
        floor_redis = os.environ.get("REDIS_URL", "") if args.floor_layer == "redis" else ""
        server, bare = Server(Path(tmp)), BareServer(Path(tmp), floor_redis)
        server.start()
        bare.start()
        variant, variant_label = None, ",".join(f"{k}={v}" for k, v in variant_env.items())
        variant_name = f"Painmap chat (token), {variant_label}"
        try:
            if variant_env and args.handshakes:  # the variant takes part in handshakes only
                variant = Server(Path(tmp), extra_env=variant_env, same_database_as=server)
                variant.start()
            prefix = f"b{uuid.uuid4().hex[:5]}u"
            users = create_users(server, args.pairs, prefix)
            # Users without history for handshakes and idle sockets (+1 pair for the burst).
            quiet = create_users(server, max(5, args.idle // 2) + 1, prefix + "q", history=0)
            base = f"ws://127.0.0.1:{server.port}"
            floor_base = f"ws://127.0.0.1:{bare.port}"

            def chat(a: str, ta: str, b: str, tb: str) -> tuple[str, str]:
                return f"{base}/ws/chat/{b}/?token={ta}", f"{base}/ws/chat/{a}/?token={tb}"

            def relay(i: int) -> tuple[str, str]:
                return f"{floor_base}/ws/relay/{i}/", f"{floor_base}/ws/relay/{i}/"

            chat_frame = lambda text: json.dumps({"message": text})  # noqa: E731
            if args.handshakes:
                servers = {
                    "bare relay": (bare, [relay(i)[0] for i in range(len(quiet))]),
                    "Painmap chat (token)": (server, [chat(*u)[0] for u in quiet]),
                }
                if variant is not None:
                    urls = [chat(*u)[0].replace(base, variant.ws_url, 1) for u in quiet]
                    servers[variant_name] = (variant, urls)
                hs = await handshakes(servers, args.handshakes, args.rounds)
                floor_hs, ours_hs = hs["bare relay"], hs["Painmap chat (token)"]
                for label in list(servers)[1:]:
                    rounds = ", ".join(f"x{r:.2f}" for r in hs["rounds"][label])
                    cpu_x = ratio(hs[label]["cpu_ms"], floor_hs["cpu_ms"])
                    which = "" if hs[label] is ours_hs else f" ({variant_label})"
                    print(
                        f"  vs floor{which:10s}: CPU/handshake {cpu_x} (rounds: {rounds}),"
                        f" handshakes/s {ratio(hs[label]['per_s'], floor_hs['per_s'])}"
                    )
                if variant is not None:
                    print(
                        f"  {variant_label} vs default: CPU/handshake"
                        f" {ratio(hs[variant_name]['cpu_ms'], ours_hs['cpu_ms'])}"
                    )
            floor = await run_load(
                bare,
                "floor: bare Channels relay (own process)",
                [relay(i) for i in range(len(users))],
                args.rate,
                args.duration,
                0,
                lambda text: text,
            )
            report(floor, None)
            await server.settle()
            ours = await run_load(
                server,
                "Painmap chat consumer",
                [chat(*u) for u in users],
                args.rate,
                args.duration,
                HISTORY,
                chat_frame,
            )
            report(ours, floor)
            if args.idle:
                idle_floor = await idle_and_burst(
                    bare,
                    "bare relay",
                    [relay(10_000 + i)[i % 2] for i in range(args.idle)],
                    relay(0),
                    lambda text: text,
                )
                idle = await idle_and_burst(
                    server,
                    "Painmap chat",
                    [chat(*quiet[1 + i // 2])[i % 2] for i in range(args.idle)],
                    chat(*quiet[0]),
                    chat_frame,
                )
                grown_x = ratio(idle["grown_mib"], idle_floor["grown_mib"])
                print(
                    f"  vs floor          : RSS growth {grown_x},"
                    f" burst p99 {ratio(idle['p99_ms'], idle_floor['p99_ms'])}"
                )
        finally:
            if variant is not None:
                variant.stop()
            server.stop()
            bare.stop()


if __name__ == "__main__":
    asyncio.run(main())
