from __future__ import annotations

from django.urls import reverse, set_script_prefix

from diary.links import entry_link, page_link


def test_links_are_what_reverse_gives():
    for pk in (1, 42, 918273645, 10**12):
        for name in ("diary:entry-edit", "diary:entry-delete", "diary:entry-detail"):
            assert entry_link(name, pk) == reverse(name, args=[pk])
    assert page_link("diary:diary") == reverse("diary:diary")


def test_links_follow_the_script_prefix():
    try:
        set_script_prefix("/painmap/")
        assert entry_link("diary:entry-edit", 7) == "/painmap/diary/entries/7/edit/"
        assert page_link("diary:diary") == "/painmap/diary/"
    finally:
        set_script_prefix("/")
    assert entry_link("diary:entry-edit", 7) == "/diary/entries/7/edit/"
