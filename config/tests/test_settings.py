from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.logging import RedactTokensFilter, redact_token_parameters, redact_tokens

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "HTTPS"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_manage("check", DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_deploy_check_is_clean_for_https_behind_a_proxy():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x7" * 30 + "-a-long-random-production-secret",
        ALLOWED_HOSTS="painmap.example.org",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_redacts_tokens_in_log_lines():
    key = "0123456789abcdef0123456789abcdef01234567"
    assert key not in redact_tokens(f"WSCONNECT /ws/chat/bob/?token={key}")
    assert key not in redact_tokens(f"Authorization: Token {key}")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "GET %s", (f"/?token={key}",), None)
    RedactTokensFilter().filter(record)
    assert key not in record.getMessage()
    assert "[redacted]" in record.getMessage()


def test_redacts_one_time_link_secrets_in_log_lines():
    reset = "/accounts/password-reset/MQ/cz6b4x-0123456789abcdef0123456789abcdef/"
    line = redact_token_parameters(f'"GET {reset} HTTP/1.1" 200')
    assert "cz6b4x" not in line
    assert "/accounts/password-reset/MQ/[redacted]/" in line
    # Django's own stand-in after the first GET, and the pages without a secret, stay readable.
    kept = "/accounts/password-reset/MQ/set-password/"
    assert redact_token_parameters(kept) == kept
    assert (
        redact_token_parameters("/accounts/password-reset/sent/")
        == "/accounts/password-reset/sent/"
    )
    verify = "/accounts/verify-email/eyJ1c2VyIjoxfQ:1vTz:abcDEF/"
    assert "eyJ1c2VyIjoxfQ" not in redact_token_parameters(f"POST {verify}")
    resend = "/accounts/verify-email/resend/"
    assert redact_token_parameters(resend) == resend


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_is_not_redirected_to_https(client, settings):
    """compose's health check asks http://127.0.0.1:8000/healthz; with HTTPS=1 it was a 301
    (issue #10, finding 8) and the container never became healthy."""
    settings.SECURE_SSL_REDIRECT = True  # what HTTPS=1 sets; the exemption is the settings'
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert client.get("/accounts/login/").status_code == 301  # everything else still is


def test_healthz_answers_under_production_https_settings():
    code = (
        "from django.test import Client; "
        "r = Client().get('/healthz', HTTP_HOST='127.0.0.1'); "
        "print(r.status_code, r.headers.get('Location'))"
    )
    result = run_manage(
        "shell",
        "-c",
        code,
        DEBUG="0",
        HTTPS="1",
        SECRET_KEY="x7" * 30 + "-a-long-random-production-secret",
        ALLOWED_HOSTS="127.0.0.1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["200", "None"]


@pytest.mark.django_db
def test_openapi_schema_documents_auth_routes(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for route in ("register", "login", "logout", "profile"):
        assert f"/api/auth/{route}/" in schema["paths"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_api_docs_served_without_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "swagger-ui-bundle.js" in content
    assert "cdn" not in content.lower()
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.django_db
def test_friendly_404_page(client, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
