"""The diary's entries in the header (templates/diary/nav.html): each tab names itself with a
pm-tab-* class, which the phone's tab bar uses for its icon and order."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def tab(html: str, name: str) -> str:
    """The <a> tag of the tab with this class (exactly one)."""
    tags = re.findall(rf'<a class="nav-link pm-tab-{name}\b[^>]*>', html)
    assert len(tags) == 1, (name, tags)
    return tags[0]


@pytest.mark.parametrize(
    ("url", "current"),
    [("diary:diary", "diary"), ("diary:notes", "notes"), ("diary:digest", "digest")],
)
def test_a_patients_tabs_name_themselves_and_mark_the_current_one(client, patient, url, current):
    client.force_login(patient)
    html = client.get(reverse(url)).content.decode()
    for name, target in [
        ("diary", "diary:diary"),
        ("notes", "diary:notes"),
        ("digest", "diary:digest"),
    ]:
        link = tab(html, name)
        assert f'href="{reverse(target)}"' in link
        assert ('aria-current="page"' in link) == (name == current), link
    assert "pm-tab-patients" not in html


def test_a_doctors_tab_is_my_patients(client, doctor):
    client.force_login(doctor)
    html = client.get(reverse("diary:patients")).content.decode()
    link = tab(html, "patients")
    assert f'href="{reverse("diary:patients")}"' in link
    assert 'aria-current="page"' in link
    for name in ("diary", "notes", "digest"):
        assert f"pm-tab-{name}" not in html


def test_the_tab_bar_finds_tabs_by_class_not_by_address():
    # A link's address may change (a prefix, a query): the stylesheet must not depend on it.
    css = (settings.BASE_DIR / "static" / "css" / "painmap.css").read_text()
    assert 'a[href="/diary' not in css
    for name in ("diary", "notes", "digest", "patients", "chat", "profile"):
        assert f".pm-tab-{name} {{ --pm-icon: var(--pm-icon-{name}); }}" in css
