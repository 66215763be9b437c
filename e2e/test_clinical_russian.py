"""The clinical pages in Russian, in real Chromium: a patient whose profile language is ru sees
their medications, a medication's doses and the diary's panels in Russian; their doctor, also
ru, reads the brief of a patient whose own language is English in Russian. Each page at a
laptop's and a phone's width: Russian words, nothing wider than the screen, and screenshots
under <--output>/clinical-ru/ for a reviewer."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from e2e.live_server import LiveServer
from e2e.test_diary import PASSWORD
from e2e.test_pages import WIDTHS

SEED = """
from datetime import timedelta
from decimal import Decimal
from django.utils import timezone
from accounts import services as accounts
from clinical import services as clinical
from clinical.models import CheckIn, DoseTaken
from diary import services as diary
from diary.models import BodyPart, Note

def person(name, language, role="patient"):
    user = accounts.register_user(username=name, email=name + "@example.com", password="{pw}")
    if role != "patient":
        accounts.set_role(users=[user], role=role)
    user.language = language
    user.save()
    return user

russian = person("{ru}", "ru")
english = person("{en}", "en")
doctor = person("{doc}", "ru", role="doctor")
accounts.change_link(link=accounts.request_link(patient=english, doctor=doctor), by=doctor,
                     status="active")
now = timezone.now()
knee = BodyPart.objects.get(name="knee-left")
head = BodyPart.objects.get(name="head")
for patient in (russian, english):
    rescue = clinical.add_medication(patient=patient, name="Ибупрофен", usual_dose=Decimal(400),
                                     unit="мг", kind="rescue")
    daily = clinical.add_medication(patient=patient, name="Амитриптилин", usual_dose=Decimal(10),
                                    unit="мг", kind="preventive")
    stopped = clinical.add_medication(patient=patient, name="Напроксен", usual_dose=Decimal(250),
                                      unit="мг", kind="rescue")
    clinical.set_medication_active(medication=stopped, active=False)
    for days, relief in ((1, 7), (3, 5), (5, None), (9, 6), (40, 2)):
        clinical.take_dose(medication=rescue, taken_at=now - timedelta(days=days, hours=2),
                           relief=relief)
    for days in (2, 4):
        clinical.take_dose(medication=daily, taken_at=now - timedelta(days=days))
    for days, part, intensity, factors in (
        (1, knee, 8, ["poor sleep"]), (3, knee, 6, ["poor sleep"]), (5, head, 4, ["stress"]),
        (9, knee, 6, ["poor sleep"]), (35, knee, 4, []), (40, head, 5, []),
    ):
        diary.record_pain(owner=patient, body_part=part, pain_type="throbbing",
                          intensity=intensity, factors=factors,
                          date_recorded=now - timedelta(days=days))
    for weeks, answers in ((1, (6, 7, 5)), (3, (4, 4, 4)), (6, (3, 4, 3))):
        day = (now - timedelta(weeks=weeks)).date()
        CheckIn.objects.create(patient=patient, week=day - timedelta(days=day.weekday()),
                               average=answers[0], enjoyment=answers[1], activity=answers[2],
                               score=(Decimal(sum(answers)) / 3).quantize(Decimal("0.01")))
    Note.objects.create(owner=patient, title="Можно ли пить ибупрофен каждый день?",
                        body="Помогает, но колено не даёт спать.", shared=True)
"""


@pytest.fixture(scope="module")
def people(daphne_server: LiveServer) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    names = {"ru": f"ru{tag}", "en": f"en{tag}", "doc": f"doc{tag}"}
    daphne_server.shell(SEED.format(pw=PASSWORD, **names))
    return names


@pytest.fixture(scope="module")
def shots(pytestconfig: pytest.Config) -> Path:
    folder = Path(pytestconfig.getoption("output")) / "clinical-ru"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def signed_in(browser: Browser, base_url: str, username: str, width: str) -> BrowserContext:
    context = browser.new_context(base_url=base_url, viewport=WIDTHS[width])
    page = context.new_page()
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password").press("Enter")
    expect(page.locator("#signed-in-as")).to_contain_text(username)
    page.close()
    return context


def look(context: BrowserContext, path: str, shot: Path) -> Page:
    """Open `path`, check it is Russian and fits the screen, and save its screenshot."""
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    response = page.goto(path)
    assert response is not None
    assert response.status == 200, path
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    page.screenshot(path=str(shot), full_page=True)
    slices(page, shot)
    assert errors == [], errors
    return page


def slices(page: Page, shot: Path) -> None:
    """A phone's long page also as screen-high slices, readable at their real size."""
    size = page.viewport_size
    if size["width"] > 500:
        return
    height = page.evaluate("document.documentElement.scrollHeight")
    for number, top in enumerate(range(0, height, size["height"]), start=1):
        clip = {
            "x": 0,
            "y": top,
            "width": size["width"],
            "height": min(size["height"], height - top),
        }
        page.screenshot(
            path=str(shot.with_name(f"{shot.stem}-{number}.png")), full_page=True, clip=clip
        )


@pytest.mark.parametrize("width", ["wide", "phone"])
def test_the_patients_medication_pages_in_russian(
    browser: Browser, base_url: str, people: dict[str, str], shots: Path, width: str
) -> None:
    context = signed_in(browser, base_url, people["ru"], width)
    page = look(context, "/clinical/medications/", shots / f"medications-{width}.png")
    expect(page.locator("h1")).to_have_text("Ваши лекарства")
    rescue = page.locator("article.medication", has_text="Ибупрофен")
    expect(rescue).to_contain_text("по требованию")
    expect(rescue).to_contain_text("5 приёмов записано")
    expect(page.locator("article.medication", has_text="Амитриптилин")).to_contain_text(
        "2 приёма записано"
    )
    expect(page.locator("article.medication", has_text="Напроксен")).to_contain_text(
        "не принимается с"
    )
    expect(page.locator("#medication-new-heading")).to_have_text("Добавить лекарство")
    expect(page.get_by_label("По требованию (при необходимости)")).to_be_visible()
    expect(page.locator("#preferences")).to_contain_text("Еженедельный опрос и напоминания")
    # Buttons keep their words on one line at both widths.
    for button in page.locator("article.medication .btn").all():
        box = button.bounding_box()
        assert box is not None
        assert box["height"] < 40, button.inner_text()

    rescue.get_by_role("link", name="Приёмы", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Ибупрофен")
    expect(page.locator("#dose-list-heading")).to_have_text("Приёмы")
    expect(page.locator("#dose-list thead")).to_contain_text("Помогло?")
    # The table fits its column: no sideways scrolling to reach "Удалить".
    assert page.evaluate(
        "(t => t.scrollWidth <= t.parentElement.clientWidth)(document.querySelector('#dose-list'))"
    )
    expect(page.locator("#dose-new-heading")).to_have_text("Записать приём")
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
    page.screenshot(path=str(shots / f"doses-{width}.png"), full_page=True)
    slices(page, shots / f"doses-{width}.png")

    page.goto("/diary/")
    panels = page.locator("#clinical-panels")
    expect(panels).to_contain_text("Принял(а) лекарство по требованию")
    expect(panels.get_by_role("button", name="Я принял(а) Ибупрофен 400 мг")).to_be_visible()
    panels.screenshot(path=str(shots / f"diary-panels-{width}.png"))
    context.close()


@pytest.mark.parametrize("width", ["wide", "phone"])
def test_the_doctor_reads_an_english_patients_brief_in_russian(
    browser: Browser, base_url: str, people: dict[str, str], shots: Path, width: str
) -> None:
    context = signed_in(browser, base_url, people["doc"], width)
    page = look(context, f"/clinical/patients/{people['en']}/brief/", shots / f"brief-{width}.png")
    expect(page.locator("h1")).to_have_text(f"{people['en']}: что изменилось")
    changes = page.locator("#brief-changes")
    expect(changes).to_contain_text("4 записи за 4 дня (до этого: 2 за 2 дн.).")
    expect(changes).to_contain_text("Средняя боль 6,0, до этого 4,5 (выше на +1,5).")
    expect(page.locator("#brief-rescue")).to_contain_text("за 30 дней")
    expect(page.locator("#brief-relief")).to_contain_text("по требованию, 4 приёма")
    expect(page.locator("#brief-relief")).to_contain_text("(3 ответа)")
    expect(page.locator("#brief-peg-heading")).to_contain_text("Еженедельный опрос")
    expect(page.locator("#brief-worst-heading")).to_have_text("Худшие дни")
    expect(page.locator("#brief-notes-heading + article")).to_contain_text(
        "Можно ли пить ибупрофен каждый день?"
    )
    # The period buttons stay on one line each.
    for link in page.locator(".digest-actions .btn-group .btn").all():
        box = link.bounding_box()
        assert box is not None
        assert box["height"] < 40, link.inner_text()
    context.close()
