"""The chat through nginx (deploy/nginx.conf) against the chat straight to Daphne, and through
nginx to one process against three (issue #14).

    python bench/bench_proxy.py                        # 20 pairs, 10 msg/s per pair, 15 s
    python bench/bench_proxy.py --pairs 100 --duration 30

Three phases, each with fresh pairs of users (the load of bench/bench_ws.py, same figures):
  1. direct    : clients -> one Daphne process
  2. proxy x1  : clients -> nginx -> that one process
  3. proxy x3  : clients -> nginx -> three processes (needs REDIS_URL: the processes deliver
                 each other's messages through Redis; with the in-memory layer it is skipped)
Server CPU is every Daphne process plus nginx (master and workers). The ratios are against
phase 1. On a 2-core machine three processes cannot beat one: they share the same two cores
and add Redis hops; what phase 3 shows there is the cost of the shape, not its headroom.
Needs /usr/sbin/nginx (Debian's nginx package); without it, says so and does nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_ws import HISTORY, Result, Server, create_users, report, run_load
from bench.loadgen import process_cpu_seconds, process_memory
from e2e.live_server import LiveServer
from e2e.nginx_proxy import NGINX, NginxProxy


def nginx_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [master, *(int(pid) for pid in children.read_text().split())]


class Cluster:
    """What run_load measures (cpu_seconds, vm) summed over Daphne processes and nginx."""

    def __init__(self, servers: list[LiveServer], proxy: NginxProxy | None) -> None:
        self.servers = servers
        self.proxy = proxy

    def pids(self) -> list[int]:
        pids = [server.pid for server in self.servers]
        if self.proxy is not None and self.proxy.process is not None:
            pids += nginx_pids(self.proxy.process.pid)
        return pids

    def cpu_seconds(self) -> float:
        return sum(process_cpu_seconds(pid) for pid in self.pids())

    def vm(self, key: str) -> int:
        return sum(process_memory(pid).get(key, 0) for pid in self.pids())


async def phase(
    label: str,
    cluster: Cluster,
    database: Server,
    base: str,
    args: argparse.Namespace,
    floor: Result | None,
) -> Result:
    users = create_users(database, args.pairs, f"p{uuid.uuid4().hex[:5]}u")
    urls = [
        (f"{base}/ws/chat/{b}/?token={ta}", f"{base}/ws/chat/{a}/?token={tb}")
        for a, ta, b, tb in users
    ]
    result = await run_load(
        cluster,  # type: ignore[arg-type]  # the two methods run_load uses
        label,
        urls,
        args.rate,
        args.duration,
        HISTORY,
        lambda text: json.dumps({"message": text}),
    )
    report(result, floor)
    await database.settle()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--rate", type=float, default=10.0, help="messages per second per pair")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of sending (max 120)")
    args = parser.parse_args()
    args.duration = min(args.duration, 120.0)
    args.pairs = min(args.pairs, 500)
    if not NGINX.exists():
        print(f"bench_proxy: skipped, {NGINX} is missing (apt-get install nginx)")
        return
    shared_layer = bool(os.environ.get("REDIS_URL"))
    db = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
    print(
        f"bench_proxy: {args.pairs} pairs x {args.rate:g} msg/s per pair for {args.duration:g} s; "
        f"{db}, {'Redis' if shared_layer else 'in-memory'} channel layer; "
        f"{os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        first = Server(tmp)
        servers: list[LiveServer] = [first]
        proxies: list[NginxProxy] = []
        try:
            first.start()
            if shared_layer:
                servers += [LiveServer(tmp, same_database_as=first) for _ in range(2)]
                for server in servers[1:]:
                    server.start()

            def proxy_to(count: int) -> NginxProxy:
                prefix = tmp / f"nginx-{count}"
                prefix.mkdir()
                proxy = NginxProxy(prefix, [server.port for server in servers[:count]])
                proxies.append(proxy)
                proxy.start()
                return proxy

            direct = await phase(
                "direct: one Daphne process",
                Cluster(servers[:1], None),
                first,
                first.ws_url,
                args,
                None,
            )
            one = proxy_to(1)
            await phase(
                "proxy x1: nginx -> one process",
                Cluster(servers[:1], one),
                first,
                one.ws_url,
                args,
                direct,
            )
            if shared_layer:
                three = proxy_to(3)
                await phase(
                    "proxy x3: nginx -> three processes",
                    Cluster(servers, three),
                    first,
                    three.ws_url,
                    args,
                    direct,
                )
            else:
                print("\n== proxy x3: skipped (several processes need REDIS_URL)")
        finally:
            for proxy in proxies:
                proxy.stop()
            for server in reversed(servers):
                server.stop()


if __name__ == "__main__":
    asyncio.run(main())
