"""Writes to the diary: pain entries and notes. Pages and the API both come through here."""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from core.prepared import PreparedInsert
from diary.entry_cache import bump_diary_cache
from diary.models import (
    MAX_FACTOR_LENGTH,
    MAX_FACTORS,
    PRESET_FACTOR_LABELS,
    PRESET_FACTORS,
    BodyPart,
    Note,
    PainEntry,
)

PAIN_ENTRY_FIELDS = frozenset(
    {"body_part", "pain_type", "intensity", "description", "date_recorded", "factors"}
)
_PRESETS_BY_KEY = {preset.casefold(): preset for preset in PRESET_FACTORS}


@functools.cache
def _presets_by_label(language: str | None) -> dict[str, str]:
    # The presets by their casefolded label in `language`, which is the active one whenever
    # this is called (see _preset_for): translated once per language, not once per factor.
    return {str(label).casefold(): preset for preset, label in PRESET_FACTOR_LABELS.items()}


def _preset_for(key: str) -> str | None:
    """The preset a casefolded factor names, in English or typed in the page's language
    ("плохой сон" is "poor sleep")."""
    return _PRESETS_BY_KEY.get(key) or _presets_by_label(translation.get_language()).get(key)


def normalise_factors(values: Iterable[str] | None) -> list[str]:
    """A patient's factors as stored: spaces tidied, presets matched whatever their case
    ("Poor  Sleep" is "poor sleep"), blanks and duplicates (ignoring case) dropped, order kept.

    The limits apply to what was sent, as the API's schema states them: at most 8 items of at
    most 40 characters. Raises ValidationError({"factors": [...]}) naming every problem.
    """
    values = list(values or ())
    if not values:
        return []
    problems: list[str] = []
    if len(values) > MAX_FACTORS:
        problems.append(
            ngettext(
                "At most %(max)s factors per entry (%(count)s given).",
                "At most %(max)s factors per entry (%(count)s given).",
                len(values),
            )
            % {"max": MAX_FACTORS, "count": len(values)}
        )
    factors: dict[str, str] = {}
    for value in values:
        if not isinstance(value, str):
            problems.append(_("Each factor must be text."))
        elif "\x00" in value:
            problems.append(_("A factor cannot contain a NUL character."))
        elif len(value) > MAX_FACTOR_LENGTH:
            shown = " ".join(value.split())[:MAX_FACTOR_LENGTH]
            problems.append(
                _("“%(factor)s…” is too long: a factor is at most %(max)s characters.")
                % {"factor": shown, "max": MAX_FACTOR_LENGTH}
            )
        elif text := " ".join(value.split()):
            factor = _preset_for(text.casefold()) or text
            factors.setdefault(factor.casefold(), factor)
    if problems:
        raise ValidationError({"factors": list(dict.fromkeys(problems))})
    return list(factors.values())


NOTE_FIELDS = frozenset({"title", "body", "shared"})


def record_pain(
    *,
    owner: User,
    body_part: BodyPart,
    pain_type: str,
    intensity: int,
    description: str = "",
    date_recorded: datetime | None = None,
    factors: Iterable[str] | None = None,
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
        factors=normalise_factors(factors),
    )
    _validate(entry)
    _insert_entry.save(entry)
    # No bump_diary_cache: a new row changes the diary's version itself (see entry_cache).
    return entry


# The API's one write per recording without a client_id: Django's INSERT, compiled once
# (building it took about as long as SQLite took to store the row, in a profile of the API's POST).
_insert_entry = PreparedInsert(PainEntry)


def _validate(entry: PainEntry) -> None:
    # The owner and body part arrive as rows already read; re-checking that they exist would
    # cost two queries per write, and the foreign keys guard them in the database anyway.
    # The CHECK constraints repeat the field validators (range, choices) and Django would run
    # each as a query of its own: the database enforces them on the INSERT regardless.
    entry.full_clean(exclude=["owner", "body_part"], validate_constraints=False)


def record_pain_in_parts(
    *,
    owner: User,
    body_parts: Sequence[BodyPart],
    pain_type: str,
    intensity: int,
    description: str = "",
    date_recorded: datetime | None = None,
    factors: Iterable[str] | None = None,
    client_id: UUID | None = None,
) -> list[PainEntry]:
    """One pain felt in several parts at once: one entry per part, all stored or none.

    Every entry is validated before any is written, and the insert is one statement in one
    transaction, so bad input (ValidationError) or a failing row (IntegrityError) stores nothing.
    """
    parts = list({part.pk: part for part in body_parts}.values())
    if not parts:
        raise ValidationError({"body_part": _("Choose at least one body part.")})
    moment = date_recorded or timezone.now()
    factors = normalise_factors(factors)
    entries = [
        PainEntry(
            owner=owner,
            body_part=part,
            pain_type=pain_type,
            intensity=intensity,
            description=description.strip(),
            date_recorded=moment,
            factors=list(factors),
            client_id=client_id,
        )
        for part in parts
    ]
    for entry in entries:
        _validate(entry)
    with transaction.atomic():
        return PainEntry.objects.bulk_create(entries)  # new rows: a new version, no bump


@dataclass(frozen=True)
class Recorded:
    """What a write with a client id stored: `created` False when the id was already stored
    (a resend), and `entries` are then the ones stored the first time."""

    entries: list[PainEntry]
    created: bool


def stored_with_client_id(*, owner: User, client_id: UUID) -> list[PainEntry]:
    entries = PainEntry.objects.for_user(owner).filter(client_id=client_id)
    return list(entries.select_related("body_part").order_by("id"))


def record_pain_once(
    *, owner: User, client_id: UUID, body_parts: Sequence[BodyPart], **fields: Any
) -> Recorded:
    """record_pain_in_parts, at most once per (owner, client_id): a resend of a recording (the
    offline outbox retrying, an API client that lost the answer) gets the stored entries back
    and stores nothing, even when it now would not validate. Two sends racing each other are
    settled by the database's unique constraint."""
    if stored := stored_with_client_id(owner=owner, client_id=client_id):
        return Recorded(stored, created=False)
    try:
        with transaction.atomic():
            entries = record_pain_in_parts(
                owner=owner, body_parts=body_parts, client_id=client_id, **fields
            )
    except IntegrityError:
        if stored := stored_with_client_id(owner=owner, client_id=client_id):
            return Recorded(stored, created=False)
        raise
    return Recorded(entries, created=True)


def update_pain_entry(*, entry: PainEntry, **changes: Any) -> PainEntry:
    """Change some fields of an entry (the owner's own, checked by the caller's query).

    The changes are validated on a copy first: on a ValidationError `entry` is left as it was."""
    unknown = set(changes) - PAIN_ENTRY_FIELDS
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))}")
    if "description" in changes:
        changes["description"] = (changes["description"] or "").strip()
    if "factors" in changes:
        changes["factors"] = normalise_factors(changes["factors"])
    _validate(_changed_copy(entry, changes))
    for field, value in changes.items():
        setattr(entry, field, value)
    entry.save()
    bump_diary_cache(entry.owner_id)
    return entry


def _changed_copy(obj: Any, changes: dict[str, Any]) -> Any:
    candidate = copy.copy(obj)
    for field, value in changes.items():
        setattr(candidate, field, value)
    return candidate


def delete_pain_entry(*, entry: PainEntry) -> None:
    owner_id = entry.owner_id
    entry.delete()
    bump_diary_cache(owner_id)


def create_note(
    *,
    owner: User,
    title: str,
    body: str = "",
    shared: bool = False,
    client_id: UUID | None = None,
) -> Note:
    """Store a note after validation (a title is required). Shared notes are readable by the
    owner's linked doctors."""
    note = Note(
        owner=owner, title=title.strip(), body=body.strip(), shared=shared, client_id=client_id
    )
    # Its one constraint (owner, client_id) is the database's to settle (create_note_once).
    note.full_clean(validate_constraints=False)
    note.save()
    return note


def create_note_once(*, owner: User, client_id: UUID, **fields: Any) -> tuple[Note, bool]:
    """create_note at most once per (owner, client_id): (the note, whether it was created now)."""
    if stored := owner.notes.filter(client_id=client_id).first():
        return stored, False
    try:
        with transaction.atomic():
            note = create_note(owner=owner, client_id=client_id, **fields)
    except IntegrityError:
        if stored := owner.notes.filter(client_id=client_id).first():
            return stored, False
        raise
    return note, True


def update_note(*, note: Note, **changes: Any) -> Note:
    """Change a note; validated on a copy first, so a refused change leaves `note` as it was."""
    unknown = set(changes) - NOTE_FIELDS
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))}")
    changes = {
        field: bool(value) if field == "shared" else (value or "").strip()
        for field, value in changes.items()
    }
    _changed_copy(note, changes).full_clean(validate_constraints=False)
    for field, value in changes.items():
        setattr(note, field, value)
    note.save()
    return note


def delete_note(*, note: Note) -> None:
    note.delete()
