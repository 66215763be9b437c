"""A PreparedQuery gives what its queryset gives, with other values, compiled once; a
PreparedInsert stores what save() stores."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    IntegrityError,
    connection,
    connections,
    transaction,
)
from django.db.models import Count, F, Max, Value
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from accounts.models import ApiToken, User
from conftest import make_user
from core.prepared import PreparedInsert, PreparedQuery, kept_cursor
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


def driver_cursor(cursor):
    """The database driver's cursor under Django's wrapper (logging or not)."""
    return cursor.cursor


def test_queries_share_one_driver_cursor_and_are_still_logged(patient, doctor):
    prepared = PreparedQuery(by_name, username="\x1fsample\x1f")
    first = driver_cursor(kept_cursor(connections[DEFAULT_DB_ALIAS]))
    with CaptureQueriesContext(connection) as queries:
        assert [u.pk for u in prepared.fetch(username="alice")] == [patient.pk]
        assert [u.pk for u in prepared.fetch(username=doctor.username)] == [doctor.pk]
    assert len(queries) == 2  # tests and debug logging see every query, as before
    assert driver_cursor(kept_cursor(connections[DEFAULT_DB_ALIAS])) is first


@pytest.mark.django_db(transaction=True)  # closing a connection ends the test's transaction
def test_a_new_connection_gets_a_new_cursor(patient):
    prepared = PreparedQuery(by_name, username="\x1fsample\x1f")
    before = driver_cursor(kept_cursor(connections[DEFAULT_DB_ALIAS]))
    old_driver = connections[DEFAULT_DB_ALIAS].connection
    connection.close()  # as a database error or the end of a request does
    (found,) = prepared.fetch(username="alice")
    assert found.pk == patient.pk
    assert connections[DEFAULT_DB_ALIAS].connection is not old_driver
    assert driver_cursor(kept_cursor(connections[DEFAULT_DB_ALIAS])) is not before


def test_an_error_on_the_kept_cursor_is_djangos_and_the_next_query_works(patient):
    prepared = PreparedQuery(by_name, username="\x1fsample\x1f")
    with pytest.raises(DatabaseError), transaction.atomic():
        kept_cursor(connections[DEFAULT_DB_ALIAS]).execute("SELECT * FROM no_such_table")
    (found,) = prepared.fetch(username="alice")
    assert found.pk == patient.pk


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


# ---- PreparedInsert ---------------------------------------------------------------------------

ENTRY_COLUMNS = ("owner_id", "body_part_id", "pain_type", "intensity", "description", "factors")


def new_entry(owner: User, **fields) -> PainEntry:
    values = {"body_part_id": 21, "pain_type": "burning", "intensity": 6, "factors": ["stress"]}
    return PainEntry(owner=owner, **{**values, **fields})


def test_insert_stores_what_save_stores(patient):
    prepared = PreparedInsert(PainEntry)
    by_save, by_prepared = new_entry(patient), new_entry(patient, description="second")
    by_save.save()
    with CaptureQueriesContext(connection) as queries:
        prepared.save(by_prepared)
    assert len(queries) == 1
    assert by_prepared.pk is not None
    assert by_prepared.pk != by_save.pk
    assert by_prepared._state.adding is False
    assert by_prepared._state.db == "default"
    stored = PainEntry.objects.get(pk=by_prepared.pk)
    for column in ENTRY_COLUMNS:
        expected = "second" if column == "description" else getattr(by_save, column)
        assert getattr(stored, column) == getattr(by_prepared, column) == expected
    # Each field's pre_save ran: the default date and auto_now's stamp, as save() sets them.
    assert stored.date_recorded == by_prepared.date_recorded
    assert stored.last_modified == by_prepared.last_modified >= by_save.last_modified


def test_insert_sends_the_signals_save_sends(patient):
    heard: list[tuple[str, bool | None, bool]] = []

    def before(sender, instance, raw, using, update_fields, **kwargs):
        heard.append(("pre_save", None, instance.pk is None))

    def after(sender, instance, created, raw, using, update_fields, **kwargs):
        heard.append(("post_save", created, instance.pk is None))

    pre_save.connect(before, sender=PainEntry)
    post_save.connect(after, sender=PainEntry)
    try:
        PreparedInsert(PainEntry).save(new_entry(patient))
    finally:
        pre_save.disconnect(before, sender=PainEntry)
        post_save.disconnect(after, sender=PainEntry)
    assert heard == [("pre_save", None, True), ("post_save", True, False)]


def test_a_refused_insert_marks_the_transaction_for_rollback_as_save_does(patient):
    prepared = PreparedInsert(PainEntry)
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            prepared.save(new_entry(patient, intensity=11))  # the CHECK constraint's 0-10
        assert connection.needs_rollback  # leaving the block rolls it back, without error
    assert not PainEntry.objects.filter(owner=patient).exists()


def test_an_expression_goes_through_save(patient):
    entry = new_entry(patient, intensity=Value(3) + Value(2))
    PreparedInsert(PainEntry).save(entry)
    assert PainEntry.objects.get(pk=entry.pk).intensity == 5


def test_insert_refuses_saved_instances_and_models_it_cannot_store(patient):
    prepared = PreparedInsert(PainEntry)
    entry = new_entry(patient)
    prepared.save(entry)
    with pytest.raises(ValueError, match="new instances only"):
        prepared.save(entry)
    with pytest.raises(ImproperlyConfigured):
        PreparedInsert(ApiToken)  # a proxy
    with pytest.raises(ImproperlyConfigured):
        PreparedInsert(Token)  # its key is no auto field: nothing to return
