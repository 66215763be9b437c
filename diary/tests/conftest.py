"""Fixtures for the diary's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone


@pytest.fixture
def midday(monkeypatch) -> datetime:
    """Pin "now" to the latest past 12:00 UTC, so that "an hour ago" is today and "Today" and
    "Yesterday" mean the same at any time the suite runs (a run just after midnight used to see
    "a minute ago" land on yesterday)."""
    real = datetime.now(UTC)
    pinned = real.replace(hour=12, minute=0, second=0, microsecond=0)
    if pinned > real:
        pinned -= timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: pinned)
    return pinned


@pytest.fixture(autouse=True)
def _no_zone_left_active():
    # A request activates its user's zone on the test's thread (UserLocaleMiddleware) and
    # nothing resets it: without this, a test's "local" time depends on the test before it.
    timezone.deactivate()
    yield
    timezone.deactivate()
