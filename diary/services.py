"""Writes to the diary: pain entries and notes. Pages and the API both come through here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.models import User
from diary.models import BodyPart, Note, PainEntry

PAIN_ENTRY_FIELDS = frozenset(
    {"body_part", "pain_type", "intensity", "description", "date_recorded"}
)
NOTE_FIELDS = frozenset({"title", "body", "shared"})


def record_pain(
    *,
    owner: User,
    body_part: BodyPart,
    pain_type: str,
    intensity: int,
    description: str = "",
    date_recorded: datetime | None = None,
) -> PainEntry:
    """Store a pain entry after full model validation (range, type, not in the future).

    Raises django.core.exceptions.ValidationError on bad input; nothing is stored then.
    """
    entry = PainEntry(
        owner=owner,
        body_part=body_part,
        pain_type=pain_type,
        intensity=intensity,
        description=description.strip(),
        date_recorded=date_recorded or timezone.now(),
    )
    _validate(entry)
    entry.save()
    return entry


def _validate(entry: PainEntry) -> None:
    # The owner and body part arrive as rows already read; re-checking that they exist would
    # cost two queries per write, and the foreign keys guard them in the database anyway.
    # The CHECK constraints repeat the field validators (range, choices) and Django would run
    # each as a query of its own: the database enforces them on the INSERT regardless.
    entry.full_clean(exclude=["owner", "body_part"], validate_constraints=False)


def update_pain_entry(*, entry: PainEntry, **changes: Any) -> PainEntry:
    """Change some fields of an entry (the owner's own, checked by the caller's query)."""
    unknown = set(changes) - PAIN_ENTRY_FIELDS
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))}")
    if "description" in changes:
        changes["description"] = (changes["description"] or "").strip()
    for field, value in changes.items():
        setattr(entry, field, value)
    _validate(entry)
    entry.save()
    return entry


def delete_pain_entry(*, entry: PainEntry) -> None:
    entry.delete()


def create_note(*, owner: User, title: str, body: str = "", shared: bool = False) -> Note:
    """Store a note after validation (a title is required). Shared notes are readable by the
    owner's linked doctors."""
    note = Note(owner=owner, title=title.strip(), body=body.strip(), shared=shared)
    note.full_clean()
    note.save()
    return note


def update_note(*, note: Note, **changes: Any) -> Note:
    unknown = set(changes) - NOTE_FIELDS
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))}")
    for field, value in changes.items():
        setattr(note, field, bool(value) if field == "shared" else (value or "").strip())
    note.full_clean()
    note.save()
    return note


def delete_note(*, note: Note) -> None:
    note.delete()
