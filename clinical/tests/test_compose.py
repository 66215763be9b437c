"""compose.yml's `reminders` service: what it runs, and that its loop survives a failed run and
stops cleanly. The loop itself is run with a stand-in for `python` (no Docker here)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml
from django.conf import settings

COMPOSE = Path(settings.BASE_DIR) / "compose.yml"


def reminders_service() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]["reminders"]


def test_the_reminders_service_runs_send_reminders_in_a_restartable_loop():
    service = reminders_service()
    shell, flag, script = service["command"]
    assert (shell, flag) == ("sh", "-c")
    assert "python manage.py send_reminders" in script
    assert service["restart"] == "unless-stopped"
    assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert service["healthcheck"] == {"disable": True}  # no web server in this container
    assert service["environment"]["REMINDERS_EVERY"] == "${REMINDERS_EVERY:-300}"
    # Same database and mail settings as the web processes.
    web_env = yaml.safe_load(COMPOSE.read_text())["services"]["web"]["environment"]
    assert {k: v for k, v in service["environment"].items() if k != "REMINDERS_EVERY"} == web_env


def test_the_loop_retries_after_a_failure_and_stops_on_sigterm(tmp_path):
    # Compose turns "$$" into "$"; the stand-in "python" logs each run, fails the second one
    # and stops the loop (SIGTERM to its shell, as `docker compose stop` does) on the third.
    script = reminders_service()["command"][2].replace("$$", "$")
    log = tmp_path / "runs.log"
    fake = tmp_path / "python"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        f"runs=$(wc -l < {log})\n"
        '[ "$runs" -eq 2 ] && exit 1\n'
        '[ "$runs" -eq 3 ] && kill -TERM "$PPID"\n'
        "exit 0\n"
    )
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "REMINDERS_EVERY": "0"}
    done = subprocess.run(
        ["sh", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    assert log.read_text().splitlines() == ["manage.py send_reminders"] * 3
    assert done.stderr == "send_reminders failed; next try in 0s\n"
