"""Debian's nginx in front of test servers, configured by deploy/nginx.conf itself.

The deployed file marks the few lines a test must change with `# test: <name>` (where to
listen, which upstream servers, where to log); everything else (timeouts, WebSocket upgrade,
retries, forwarded headers, the token-redacting log format) is used as written. nginx runs in
the foreground (`daemon off`) on a free 127.0.0.1 port, with every path under a temporary prefix.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

from e2e.live_server import ROOT, free_port

NGINX = Path("/usr/sbin/nginx")
DEPLOYED_CONFIG = ROOT / "deploy" / "nginx.conf"
# Test only, never deployed: which upstream served a request (the WebSocket handshake too), so
# a test can put two users on two different processes. Internal addresses stay out of production.
UPSTREAM_HEADER = "X-Test-Upstream"


def render_config(
    template: str, *, listen_port: int, upstream_ports: list[int], prefix: Path
) -> str:
    """deploy/nginx.conf with its `# test:` lines replaced for a local run under `prefix`."""
    servers = "\n".join(
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in upstream_ports
    )
    replacements = {
        "error_log": f"error_log {prefix / 'error.log'} crit;",
        "access_log": f"access_log {prefix / 'access.log'} painmap;\n"
        f"    add_header {UPSTREAM_HEADER} $upstream_addr always;",
        "upstream servers": servers,
        "listen": f"listen 127.0.0.1:{listen_port};",
    }
    rendered = template
    for name, replacement in replacements.items():
        pattern = re.compile(rf"^[ \t]*\S.*#\s*test:\s*{re.escape(name)}[ \t]*$", re.MULTILINE)
        rendered, count = pattern.subn(lambda _m, r=replacement: r, rendered)
        if count != 1:
            raise AssertionError(f"deploy/nginx.conf: expected one '# test: {name}' line")
    # Where nginx keeps request bodies and responses that overflow its buffers: Debian's
    # compiled-in /var/lib/nginx may not be writable, and the test must not share it.
    temp_paths = "".join(
        f"    {kind}_temp_path {prefix / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    rendered = rendered.replace("http {\n", "http {\n" + temp_paths, 1)
    if os.geteuid() == 0:
        # Workers would otherwise run as nobody, who cannot enter pytest's private tmp dirs.
        rendered = "user root;\n" + rendered
    return rendered


class NginxProxy:
    """nginx in the foreground on a free port, in front of the given local ports."""

    def __init__(self, prefix: Path, upstream_ports: list[int]) -> None:
        if not NGINX.exists():
            raise RuntimeError(
                f"{NGINX} is missing: install Debian's nginx package (apt-get install nginx)"
            )
        self.prefix = prefix
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.config_path = prefix / "nginx.conf"
        self.config_path.write_text(
            render_config(
                DEPLOYED_CONFIG.read_text(),
                listen_port=self.port,
                upstream_ports=upstream_ports,
                prefix=prefix,
            )
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def access_log(self) -> Path:
        return self.prefix / "access.log"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    def command(self, *extra: str) -> list[str]:
        return [
            str(NGINX),
            "-p",
            str(self.prefix),
            "-c",
            str(self.config_path),
            "-e",
            str(self.prefix / "startup-error.log"),
            "-g",
            f"daemon off; pid {self.prefix / 'nginx.pid'};",
            *extra,
        ]

    def start(self) -> None:
        check = subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the rendered config:\n{check.stderr}")
        self.output = open(self.prefix / "nginx.out", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            self.command(), stdout=self.output, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{self._startup_errors()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not listen in 30 s:\n{self._startup_errors()}")

    def _startup_errors(self) -> str:
        path = self.prefix / "startup-error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self) -> str:
        """Everything nginx wrote: both logs and its own output."""
        paths = [self.access_log, self.error_log, self.prefix / "startup-error.log"]
        paths.append(self.prefix / "nginx.out")
        return "\n".join(p.read_text(errors="replace") for p in paths if p.exists())

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.output.close()
