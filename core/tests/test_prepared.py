"""A PreparedQuery gives what its queryset gives, with other values, compiled once."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Count, F, Max
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from conftest import make_user
from core.prepared import PreparedQuery
from diary.models import PainEntry

pytestmark = pytest.mark.django_db


def by_name(username: str):
    return (
        User.objects.with_roles()
        .annotate(joined_again=F("date_joined"))
        .filter(username=username, is_active=True)
    )


def test_same_rows_fields_types_and_annotations_as_the_orm(patient, doctor):
    prepared = PreparedQuery(by_name, username="\x1fsample\x1f")
    for user in (patient, doctor):
        (got,) = prepared.fetch(username=user.username)
        (expected,) = by_name(user.username)
        assert got.pk == expected.pk
        assert got.username == expected.username
        assert got.date_joined == expected.date_joined
        assert isinstance(got.joined_again, datetime)  # the backend's converters ran
        assert got.joined_again == expected.joined_again
        assert got.group_names == expected.group_names
        assert got._state.adding is False
    assert prepared.fetch(username="nobody") == []


def test_compiled_once_then_only_the_query_runs(patient):
    prepared = PreparedQuery(by_name, username="\x1fsample\x1f")
    prepared.fetch(username="alice")
    with CaptureQueriesContext(connection) as queries:
        (found,) = prepared.fetch(username="alice")
    assert found.pk == patient.pk
    assert len(queries) == 1


def test_inactive_users_are_filtered_as_in_the_orm(patient):
    make_user("gone", is_active=False)
    prepared = PreparedQuery(by_name, username="\x1fsample\x1f")
    assert prepared.fetch(username="gone") == []


def test_a_sample_that_is_no_parameter_is_refused(patient):
    prepared = PreparedQuery(lambda **_: User.objects.all(), username="\x1fsample\x1f")
    with pytest.raises(ImproperlyConfigured):
        prepared.fetch(username="alice")


def test_equal_samples_are_refused(patient):
    prepared = PreparedQuery(
        lambda a, b: User.objects.filter(pk__in=[a, b]), a=-7_000_001, b=-7_000_001
    )
    with pytest.raises(ImproperlyConfigured):
        prepared.fetch(a=1, b=2)


@pytest.mark.django_db(transaction=True)
def test_another_connection_reuses_the_sql_with_its_own_converters(patient):
    """Under ASGI a request may run on a connection object of its own (another thread)."""
    import threading

    from django.db import connections

    prepared = PreparedQuery(by_name, username="\x1fsample\x1f")
    prepared.fetch(username="alice")
    found = []

    def elsewhere() -> None:
        try:
            found.extend(prepared.fetch(username="alice"))
        finally:
            connections.close_all()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    (user,) = found
    assert user.pk == patient.pk
    assert isinstance(user.joined_again, datetime)
    assert len(prepared._compiled) == 1  # compiled once for the alias


def entry_versions(owner_id: int):
    return (
        PainEntry.objects.filter(owner_id=owner_id)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("id"), top=Max("id"), changed=Max("last_modified"))
    )


def test_values_rows_equal_the_orms_with_converted_aggregates(patient, doctor):
    for part in (1, 2, 3):
        PainEntry.objects.create(owner=patient, body_part_id=part, pain_type="burning", intensity=4)
    prepared = PreparedQuery(entry_versions, owner_id=-7_000_003)
    (got,) = prepared.values(owner_id=patient.pk)
    assert got == entry_versions(patient.pk).get()
    assert got["n"] == 3
    assert isinstance(got["changed"], datetime)  # the backend's converters ran (SQLite: text)
    assert got["changed"].tzinfo is not None
    assert prepared.values(owner_id=doctor.pk) == []  # nothing of theirs: no row


def test_values_and_instances_are_not_mixed_up(patient):
    versions = PreparedQuery(entry_versions, owner_id=-7_000_003)
    with pytest.raises(ImproperlyConfigured):
        versions.fetch(owner_id=patient.pk)
    users = PreparedQuery(by_name, username="\x1fsample\x1f")
    with pytest.raises(ImproperlyConfigured):
        users.values(username="alice")
    as_tuples = PreparedQuery(
        lambda username: User.objects.filter(username=username).values_list("pk"),
        username="\x1fsample\x1f",
    )
    with pytest.raises(ImproperlyConfigured):  # only what it can give exactly as Django does
        as_tuples.values(username="alice")
