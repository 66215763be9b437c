from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from clinical import services
from clinical.models import CheckIn, DoseTaken, Medication, Preferences
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def alice(client, patient):
    client.login(username=patient.username, password=PASSWORD)
    return client


@pytest.fixture
def doctor_client(client, doctor):
    client.login(username=doctor.username, password=PASSWORD)
    return client


def test_pages_need_sign_in(client):
    response = client.get("/clinical/medications/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_doctors_have_no_medication_list(doctor_client):
    assert doctor_client.get("/clinical/medications/").status_code == 404


def test_add_a_medication(alice, patient):
    response = alice.post(
        "/clinical/medications/new/",
        {"name": "Ibuprofen", "usual_dose": "400", "unit": "mg", "kind": "rescue"},
    )
    assert response.status_code == 302
    page = alice.get("/clinical/medications/")
    assert "Ibuprofen" in page.content.decode()
    assert Medication.objects.get().patient == patient


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "usual_dose": "1", "unit": "mg", "kind": "rescue"}, "name"),
        ({"name": "X", "usual_dose": "0", "unit": "mg", "kind": "rescue"}, "usual_dose"),
        ({"name": "X", "usual_dose": "abc", "unit": "mg", "kind": "rescue"}, "usual_dose"),
        ({"name": "X", "usual_dose": "1", "unit": "mg", "kind": "daily"}, "kind"),
        ({"name": "X\x00", "usual_dose": "1", "unit": "mg", "kind": "rescue"}, "name"),
    ],
)
def test_bad_medication_is_an_inline_error(alice, data, field):
    response = alice.post("/clinical/medications/new/", data)
    assert response.status_code == 422
    assert response.context["form"].errors[field]
    assert not Medication.objects.exists()


def test_edit_stop_restart_delete(alice, rescue):
    url = f"/clinical/medications/{rescue.pk}/"
    assert alice.get(url + "edit/").status_code == 200
    response = alice.post(
        url + "edit/",
        {"name": "Ibuprofen forte", "usual_dose": "600", "unit": "mg", "kind": "rescue"},
    )
    assert response.status_code == 302
    rescue.refresh_from_db()
    assert (rescue.name, rescue.usual_dose) == ("Ibuprofen forte", Decimal("600"))
    bad = alice.post(url + "edit/", {"name": "", "usual_dose": "600", "unit": "mg", "kind": "x"})
    assert bad.status_code == 422
    rescue.refresh_from_db()
    assert rescue.name == "Ibuprofen forte"

    alice.post(url + "active/", {"active": "0"})
    rescue.refresh_from_db()
    assert not rescue.active
    assert alice.post(url + "active/", {"active": "maybe"}).status_code == 302
    rescue.refresh_from_db()
    assert not rescue.active
    alice.post(url + "active/", {"active": "1"})
    rescue.refresh_from_db()
    assert rescue.active

    confirm = alice.get(url + "delete/")
    assert "Delete Ibuprofen forte?" in confirm.content.decode()
    assert Medication.objects.filter(pk=rescue.pk).exists()
    alice.post(url + "delete/")
    assert not Medication.objects.filter(pk=rescue.pk).exists()


def test_another_patients_medication_is_404(alice, bobs_medication):
    url = f"/clinical/medications/{bobs_medication.pk}/"
    assert alice.get(url).status_code == 404
    assert alice.get(url + "edit/").status_code == 404
    assert alice.post(url + "edit/", {"name": "Mine"}).status_code == 404
    assert alice.post(url + "active/", {"active": "0"}).status_code == 404
    assert alice.post(url + "delete/").status_code == 404
    assert alice.post(url, {"taken_at": "2026-01-01T10:00", "dose": "1"}).status_code == 404
    dose = services.take_dose(medication=bobs_medication)
    assert alice.post(f"/clinical/doses/{dose.pk}/delete/").status_code == 404
    assert alice.get(f"/clinical/doses/{dose.pk}/delete/").status_code == 404
    assert alice.get(f"/clinical/doses/{dose.pk}/delete/", **HTMX).status_code == 404
    assert alice.post(f"/clinical/doses/{dose.pk}/relief/", {"relief": "3"}).status_code == 404
    assert alice.post("/clinical/rescue/", {"medication": bobs_medication.pk}).status_code == 422
    bobs_medication.refresh_from_db()
    assert bobs_medication.active
    assert bobs_medication.name == "Secretol"
    assert DoseTaken.objects.count() == 1
    assert "Secretol" not in alice.get("/clinical/medications/").content.decode()


def test_back_date_a_dose_and_delete_it(alice, rescue):
    url = f"/clinical/medications/{rescue.pk}/"
    page = alice.get(url)
    assert page.status_code == 200
    when = timezone.localtime() - timedelta(days=2)
    response = alice.post(url, {"taken_at": when.strftime("%Y-%m-%dT%H:%M"), "dose": "200"})
    assert response.status_code == 302
    dose = DoseTaken.objects.get()
    assert dose.dose == Decimal("200")
    assert abs(dose.taken_at - when) < timedelta(minutes=1)
    future = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    bad = alice.post(url, {"taken_at": future, "dose": "200"})
    assert bad.status_code == 422
    assert bad.context["form"].errors["taken_at"]
    assert alice.post(url, {"taken_at": "x", "dose": "-2"}).status_code == 422
    assert DoseTaken.objects.count() == 1
    alice.post(f"/clinical/doses/{dose.pk}/delete/")
    assert not DoseTaken.objects.exists()


def test_deleting_a_dose_asks_first_without_javascript(alice, rescue):
    dose = services.take_dose(medication=rescue, relief=6)
    url = f"/clinical/doses/{dose.pk}/delete/"
    doses_page = alice.get(f"/clinical/medications/{rescue.pk}/").content.decode()
    # The list's Delete is a link to the confirmation, not a form that deletes at once.
    assert f'href="{url}"' in doses_page
    assert f'action="{url}"' not in doses_page
    confirm = alice.get(url)
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "Delete this dose of Ibuprofen?" in page
    assert "relief 6/10" in page
    assert f'action="{url}"' in page
    assert DoseTaken.objects.count() == 1  # asking deletes nothing
    response = alice.post(url)
    assert response.status_code == 302
    assert response["Location"] == f"/clinical/medications/{rescue.pk}/"
    assert not DoseTaken.objects.exists()
    assert alice.get(url).status_code == 404


def test_deleting_a_dose_asks_in_place_with_htmx(alice, rescue):
    dose = services.take_dose(medication=rescue)
    url = f"/clinical/doses/{dose.pk}/delete/"
    confirm = alice.get(url, **HTMX)
    assert confirm.status_code == 200
    row = confirm.content.decode()
    assert row.strip().startswith(f'<tr id="dose-{dose.pk}"')
    assert 'role="alertdialog"' in row
    assert f'hx-post="{url}"' in row
    assert "<html" not in row
    assert "HX-Request" in confirm["Vary"]
    cancel = alice.get(url + "?cancel=1", **HTMX).content.decode()
    assert cancel.strip().startswith(f'<tr id="dose-{dose.pk}"')
    assert "alertdialog" not in cancel
    assert f'hx-get="{url}"' in cancel
    assert DoseTaken.objects.count() == 1
    deleted = alice.post(url, **HTMX)
    assert deleted.status_code == 200
    assert 'id="dose-status"' in deleted.content.decode()
    assert "Deleted the dose" in deleted.content.decode()
    assert not DoseTaken.objects.exists()


def test_the_diary_shows_the_rescue_panel(alice, rescue):
    page = alice.get("/diary/").content.decode()
    assert 'id="rescue-card"' in page
    assert "I took Ibuprofen 400 mg" in page


def test_one_tap_rescue_with_htmx_and_without(alice, rescue):
    response = alice.post("/clinical/rescue/", {"medication": rescue.pk}, **HTMX)
    assert response.status_code == 200
    assert 'id="dose-saved"' in response.content.decode()
    response = alice.post("/clinical/rescue/", {"medication": rescue.pk})
    assert response.status_code == 302
    assert response["Location"] == "/diary/"
    assert DoseTaken.objects.filter(medication=rescue).count() == 2


@pytest.mark.parametrize("value", ["", "abc", "999999999999999999999", "0"])
def test_one_tap_rescue_bad_input(alice, rescue, value):
    response = alice.post("/clinical/rescue/", {"medication": value}, **HTMX)
    assert response.status_code == 422
    assert "Choose one of your rescue medications" in response.content.decode()
    no_js = alice.post("/clinical/rescue/", {"medication": value})
    assert no_js.status_code == 422
    assert not DoseTaken.objects.exists()


def test_stopped_medication_cannot_be_tapped(alice, rescue):
    services.set_medication_active(medication=rescue, active=False)
    assert alice.post("/clinical/rescue/", {"medication": rescue.pk}).status_code == 422
    assert "I took Ibuprofen" not in alice.get("/diary/").content.decode()


def test_did_it_help_is_asked_after_the_delay_and_answered_in_place(alice, rescue, settings):
    settings.RELIEF_ASK_AFTER = 3 * 3600
    dose = services.take_dose(medication=rescue, taken_at=timezone.now() - timedelta(hours=1))
    assert 'id="relief-card"' not in alice.get("/diary/").content.decode()
    DoseTaken.objects.filter(pk=dose.pk).update(taken_at=timezone.now() - timedelta(hours=3))
    assert 'id="relief-card"' in alice.get("/diary/").content.decode()
    bad = alice.post(f"/clinical/doses/{dose.pk}/relief/", {"relief": "11"}, **HTMX)
    assert bad.status_code == 422
    assert "Choose how much it helped" in bad.content.decode()
    assert alice.post(f"/clinical/doses/{dose.pk}/relief/", {}, **HTMX).status_code == 422
    response = alice.post(f"/clinical/doses/{dose.pk}/relief/", {"relief": "7"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="relief-saved"' in body
    assert 'id="relief-card"' not in body
    dose.refresh_from_db()
    assert dose.relief == 7
    assert dose.relief_asked
    assert 'id="relief-card"' not in alice.get("/diary/").content.decode()


def test_did_it_help_can_be_dismissed_without_js(alice, rescue):
    dose = services.take_dose(medication=rescue, taken_at=timezone.now() - timedelta(hours=5))
    response = alice.post(f"/clinical/doses/{dose.pk}/relief/", {"dismiss": "on"})
    assert response.status_code == 302
    dose.refresh_from_db()
    assert dose.relief is None
    assert dose.relief_asked


def test_checkin_card_on_the_chosen_day_and_later_that_week(alice, patient, monkeypatch):
    services.save_preferences(user=patient, checkin_weekday=2)  # Wednesday
    tuesday = datetime(2026, 3, 3, 12, tzinfo=UTC)
    friday = datetime(2026, 3, 6, 12, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: tuesday)
    assert 'id="checkin-card"' not in alice.get("/diary/").content.decode()
    monkeypatch.setattr(timezone, "now", lambda: friday)
    assert 'id="checkin-card"' in alice.get("/diary/").content.decode()
    bad = alice.post("/clinical/checkin/", {"average": "6", "enjoyment": "11"}, **HTMX)
    assert bad.status_code == 422
    assert not CheckIn.objects.exists()
    response = alice.post(
        "/clinical/checkin/", {"average": "6", "enjoyment": "7", "activity": "5"}, **HTMX
    )
    assert response.status_code == 200
    assert "your PEG score this week is 6.0" in response.content.decode()
    assert 'id="checkin-card"' not in alice.get("/diary/").content.decode()
    again = alice.post("/clinical/checkin/", {"average": "1", "enjoyment": "1", "activity": "1"})
    assert again.status_code == 422
    assert CheckIn.objects.get().score == Decimal("6.00")


def test_checkin_page_without_js(alice):
    # Monday is the default day: a check-in is due every day of the week.
    assert alice.get("/clinical/checkin/").status_code == 200
    response = alice.post("/clinical/checkin/", {"average": "2", "enjoyment": "3", "activity": "4"})
    assert response.status_code == 302
    assert alice.get("/clinical/checkin/").status_code == 302  # done: nothing due


def test_preferences(alice, patient):
    response = alice.post(
        "/clinical/preferences/",
        {"checkin_weekday": "4", "daily_reminder": "on", "daily_reminder_time": "21:30"},
    )
    assert response.status_code == 302
    preferences = Preferences.objects.get(user=patient)
    assert preferences.checkin_weekday == 4
    assert preferences.daily_reminder
    bad = alice.post("/clinical/preferences/", {"checkin_weekday": "9", "daily_reminder_time": "x"})
    assert bad.status_code == 422
    assert Preferences.objects.get(user=patient).checkin_weekday == 4


def test_panel_forms_carry_a_csrf_token(patient, rescue):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.login(username=patient.username, password=PASSWORD)
    page = client.get("/diary/").content.decode()
    panels = page[page.index('id="clinical-panels"') :]
    marker = 'name="csrfmiddlewaretoken" value="'
    token = panels[panels.index(marker) + len(marker) :].split('"', 1)[0]
    assert client.post("/clinical/rescue/", {"medication": rescue.pk}).status_code == 403
    response = client.post(
        "/clinical/rescue/", {"medication": rescue.pk, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert DoseTaken.objects.count() == 1


def test_the_doctor_sees_what_the_patient_takes_read_only(
    client, patient, linked_doctor, rescue, bobs_medication
):
    now = timezone.now()
    # Last 28 days: 4 rescue doses (relief 8, 6, none, none) -> 1.0 a week; an older one and a
    # preventive dose do not count as recent rescue doses.
    for days, relief in ((1, 8), (3, 6), (10, None), (27, None), (40, 1)):
        DoseTaken.objects.create(
            medication=rescue, taken_at=now - timedelta(days=days), dose=400, relief=relief
        )
    stopped = services.add_medication(
        patient=patient, name="Amitriptyline", usual_dose=Decimal(10), kind="preventive"
    )
    services.take_dose(medication=stopped, taken_at=now - timedelta(days=2))
    services.set_medication_active(medication=stopped, active=False)
    services.take_dose(medication=bobs_medication)
    client.login(username=linked_doctor.username, password=PASSWORD)
    page = client.get(f"/diary/patients/{patient.username}/").content.decode()
    panel = page[page.index('id="patient-medications"') :]
    panel = panel[: panel.index("</section>")]
    assert "1.0 a week</strong> (4 in 28 days)" in panel
    assert "Ibuprofen" in panel
    assert "7.0/10" in panel
    assert "Amitriptyline" in panel
    assert "stopped" in panel
    assert "Secretol" not in page
    # Read-only: nothing to press.
    assert "<form" not in panel
    assert "<button" not in panel
    assert "/clinical/" not in panel


def test_the_doctors_medication_panel_when_there_is_none(client, patient, linked_doctor):
    client.login(username=linked_doctor.username, password=PASSWORD)
    page = client.get(f"/diary/patients/{patient.username}/").content.decode()
    assert 'id="patient-medications-empty"' in page


def test_the_list_counts_each_medications_doses(alice, patient, rescue):
    other = services.add_medication(patient=patient, name="Paracetamol", usual_dose=Decimal(1))
    services.take_dose(medication=rescue)
    services.take_dose(medication=rescue)
    page = alice.get("/clinical/medications/").content.decode()
    rescue_card = page[page.index(f'id="medication-{rescue.pk}"') :]
    assert "2 doses recorded" in rescue_card[: rescue_card.index("</article>")]
    other_card = page[page.index(f'id="medication-{other.pk}"') :]
    assert "0 doses recorded" in other_card[: other_card.index("</article>")]
