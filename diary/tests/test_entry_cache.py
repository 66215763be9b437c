"""The diary's entry list as a cached fragment (diary.views.entries, diary/entry_cache.py): each
owner's own, never another's, and never older than the diary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import make_user
from diary import entry_cache, services
from diary.models import BodyPart, PainEntry
from messaging.tests.conftest import link

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def entry(owner, description: str, **extra) -> PainEntry:
    return PainEntry.objects.create(
        owner=owner,
        body_part=BodyPart.objects.get(name=extra.pop("part", "knee-left")),
        pain_type="burning",
        intensity=extra.pop("intensity", 5),
        description=description,
        date_recorded=extra.pop("at", timezone.now() - timedelta(hours=1)),
    )


def test_another_patient_never_sees_the_cached_list(patient, other_patient):
    entry(patient, "alice's knee")
    assert "alice&#x27;s knee" in browser(patient).get("/diary/").content.decode()
    # Bob's diary is keyed by bob, whatever alice's list in the cache.
    page = browser(other_patient).get("/diary/").content.decode()
    assert "alice" not in page
    assert 'id="entry-list-empty"' in page
    # Same number of entries, same shape: still each their own.
    entry(other_patient, "bob's elbow")
    page = browser(other_patient).get("/diary/").content.decode()
    assert "bob&#x27;s elbow" in page
    assert "alice" not in page


def test_a_doctor_gets_the_read_only_list_never_the_patients_own(patient):
    doctor = make_user("drwho", role="doctor")
    link(patient, doctor)
    mine = entry(patient, "a cached one")
    own = browser(patient).get("/diary/").content.decode()
    assert f"/diary/entries/{mine.pk}/edit/" in own  # the patient's list has its edit links
    page = browser(doctor).get("/diary/patients/alice/").content.decode()
    assert "a cached one" in page
    assert f"/diary/entries/{mine.pk}/edit/" not in page


def test_a_stranger_gets_a_404_not_the_cached_list(patient, other_patient):
    entry(patient, "private")
    browser(patient).get("/diary/")
    doctor = make_user("drno", role="doctor")  # no link with alice
    response = browser(doctor).get("/diary/patients/alice/")
    assert response.status_code == 404
    assert "private" not in response.content.decode()


def test_a_write_outside_the_services_shows_at_once(patient):
    """Another process (the admin, a script) writing with the ORM, no cache involved: the
    diary's version is read from the database, so the next page shows the change."""
    client = browser(patient)
    first = entry(patient, "first")
    assert "first" in client.get("/diary/").content.decode()
    entry(patient, "second")
    page = client.get("/diary/").content.decode()
    assert "second" in page
    first.description = "first, edited"
    first.save()
    assert "first, edited" in client.get("/diary/").content.decode()
    PainEntry.objects.filter(pk=first.pk).delete()
    assert "first, edited" not in client.get("/diary/").content.decode()


def test_a_write_the_database_version_misses_is_seen_through_the_token(
    patient, django_capture_on_commit_callbacks
):
    """An edit whose change stamp is not the newest (another process's clock running behind)
    leaves the database's version as it was; the services replace the cache token, in the
    cache every process shares, once the write commits."""
    client = browser(patient)
    written = entry(patient, "before")
    entry(patient, "a later one")
    assert "before" in client.get("/diary/").content.decode()
    # The same row count, newest id and latest stamp: the version cannot tell.
    PainEntry.objects.filter(pk=written.pk).update(description="after")
    assert "before" in client.get("/diary/").content.decode()  # served from the cache
    with django_capture_on_commit_callbacks(execute=True):
        entry_cache.bump_diary_cache(patient.pk)  # what every write through the services does
    page = client.get("/diary/").content.decode()
    assert "after" in page
    assert "before" not in page


def test_edits_and_deletions_through_the_services_replace_the_token(
    patient, django_capture_on_commit_callbacks
):
    part = BodyPart.objects.get(name="knee-left")
    created = services.record_pain(owner=patient, body_part=part, pain_type="burning", intensity=4)
    tokens = [entry_cache.diary_cache_token(patient.pk)]
    with django_capture_on_commit_callbacks(execute=True):
        services.update_pain_entry(entry=created, intensity=6)
    tokens.append(entry_cache.diary_cache_token(patient.pk))
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_pain_entry(entry=created)
    tokens.append(entry_cache.diary_cache_token(patient.pk))
    assert len(set(tokens)) == 3


def test_a_new_entry_always_makes_a_new_version_without_the_token(patient):
    """What lets a new entry skip the token: its id is above every id the diary ever had, even
    after the newest entry was deleted (SQLite would reuse that id without AUTOINCREMENT)."""
    part = BodyPart.objects.get(name="knee-left")
    client = browser(patient)
    older = entry(patient, "zq-older")
    newest = entry(patient, "zq-newest")
    PainEntry.objects.filter(pk=newest.pk).delete()  # bypassing the services: no token
    assert "zq-newest" not in client.get("/diary/").content.decode()
    token = entry_cache.diary_cache_token(patient.pk)
    again = services.record_pain(
        owner=patient, body_part=part, pain_type="burning", intensity=4, description="zq-again"
    )
    assert again.pk > newest.pk > older.pk
    assert entry_cache.diary_cache_token(patient.pk) == token  # not bumped
    assert "zq-again" in client.get("/diary/").content.decode()
    (more,) = services.record_pain_in_parts(
        owner=patient, body_parts=[part], pain_type="stabbing", intensity=2, description="zq-more"
    )
    assert more.pk > again.pk
    assert "zq-more" in client.get("/diary/").content.decode()


def test_the_list_follows_the_users_zone(patient):
    client = browser(patient)
    entry(patient, "late", at=datetime(2026, 3, 10, 23, 30, tzinfo=UTC))
    assert 'datetime="2026-03-10T23:30:00+00:00"' in client.get("/diary/").content.decode()
    patient.timezone = "Asia/Tokyo"
    patient.save()
    page = client.get("/diary/").content.decode()
    assert 'datetime="2026-03-11T08:30:00+09:00"' in page
