"""The 44 body parts, said once: id, name, label, view, side and SNOMED CT body structure.

Ids and names are the original API's contract with existing clients; labels are what people
read. "left"/"right" are always the patient's own sides. Everything else about the body map is
derived from this table: the drawing (``diary.bodymap.drawing``, joined to
``diary.bodymap.shapes`` by name), the API's list, the serializer's id check, the FHIR export's
body sites. Two frozen copies stay, because they must not change when this file does: the data
migration ``diary/migrations/0002_bodyparts.py`` and ``fixtures/bodyparts.json``; a test
(``diary/tests/test_bodymap_parts.py``) checks both against this table.
"""

from __future__ import annotations

from typing import NamedTuple

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy, gettext_noop, pgettext_lazy

FRONT = "front"
BACK = "back"
# The views as people read them (translated on use).
VIEW_LABELS: dict[str, Promise] = {
    FRONT: pgettext_lazy("body map view", "Front"),
    BACK: pgettext_lazy("body map view", "Back"),
}

# The side of the body a part is on (laterality, e.g. the SNOMED CT qualifier of a FHIR body
# site); NONE for a part on the midline or on both sides (the buttocks).
LEFT = "left"
RIGHT = "right"
NONE = "none"
SIDES = (LEFT, RIGHT, NONE)

# SNOMED CT body structures used below (concept id -> preferred term, as the FHIR export has
# sent them). A part whose region has no clear single structure (the genitals, the ribs, the
# elbows, the back of the legs) has none and is exported with its label only.
SNOMED_STRUCTURES: dict[str, str] = {
    "69536005": "Head structure",
    "89545001": "Face structure",
    "45048000": "Neck structure",
    "16982005": "Shoulder region structure",
    "40983000": "Upper arm structure",
    "14975008": "Forearm structure",
    "85562004": "Hand structure",
    "51185008": "Thoracic structure",
    "113345001": "Abdominal structure",
    "68367000": "Thigh structure",
    "72696002": "Knee region structure",
    "30021000": "Lower leg structure",
    "56459004": "Foot structure",
    "46862004": "Buttock structure",
    "37822005": "Lower back structure",
    "77568009": "Back structure",
    "421060004": "Vertebral column structure",
    "51299004": "Clavicle structure",
}


class Part(NamedTuple):
    id: int
    name: str
    label: str
    view: str  # FRONT or BACK
    side: str  # LEFT, RIGHT or NONE
    snomed: str | None  # a key of SNOMED_STRUCTURES, or None


# In id order, which is also the order the map draws them in.
PARTS: tuple[Part, ...] = (
    Part(1, "head", gettext_noop("Top of the head"), FRONT, NONE, "69536005"),
    Part(2, "face", gettext_noop("Face"), FRONT, NONE, "89545001"),
    Part(3, "neck", gettext_noop("Neck"), FRONT, NONE, "45048000"),
    Part(4, "shoulder-left", gettext_noop("Left shoulder"), FRONT, LEFT, "16982005"),
    Part(5, "shoulder-right", gettext_noop("Right shoulder"), FRONT, RIGHT, "16982005"),
    Part(6, "arm-left", gettext_noop("Left upper arm"), FRONT, LEFT, "40983000"),
    Part(7, "forearm-left", gettext_noop("Left forearm"), FRONT, LEFT, "14975008"),
    Part(8, "arm-right", gettext_noop("Right upper arm"), FRONT, RIGHT, "40983000"),
    Part(9, "forearm-right", gettext_noop("Right forearm"), FRONT, RIGHT, "14975008"),
    Part(10, "chest-left", gettext_noop("Left chest"), FRONT, LEFT, "51185008"),
    Part(11, "chest-right", gettext_noop("Right chest"), FRONT, RIGHT, "51185008"),
    Part(12, "belly-left", gettext_noop("Left side of the belly"), FRONT, LEFT, "113345001"),
    Part(13, "ribs-left", gettext_noop("Left ribs"), FRONT, LEFT, None),
    Part(14, "belly-right", gettext_noop("Right side of the belly"), FRONT, RIGHT, "113345001"),
    Part(15, "belly", gettext_noop("Belly"), FRONT, NONE, "113345001"),
    Part(16, "ribs-right", gettext_noop("Right ribs"), FRONT, RIGHT, None),
    Part(17, "thigh-left", gettext_noop("Left thigh"), FRONT, LEFT, "68367000"),
    Part(18, "innerthigh-left", gettext_noop("Left inner thigh"), FRONT, LEFT, "68367000"),
    Part(19, "feet-left", gettext_noop("Left foot"), FRONT, LEFT, "56459004"),
    Part(20, "calf-left", gettext_noop("Left shin"), FRONT, LEFT, "30021000"),
    Part(21, "knee-left", gettext_noop("Left knee"), FRONT, LEFT, "72696002"),
    Part(22, "thigh-right", gettext_noop("Right thigh"), FRONT, RIGHT, "68367000"),
    Part(23, "genitalia", gettext_noop("Genitals"), FRONT, NONE, None),
    Part(24, "innerthigh-right", gettext_noop("Right inner thigh"), FRONT, RIGHT, "68367000"),
    Part(25, "right-feet", gettext_noop("Right foot"), FRONT, RIGHT, "56459004"),
    Part(26, "calf-right", gettext_noop("Right shin"), FRONT, RIGHT, "30021000"),
    Part(27, "knee-right", gettext_noop("Right knee"), FRONT, RIGHT, "72696002"),
    Part(28, "elbow-right", gettext_noop("Right elbow"), FRONT, RIGHT, None),
    Part(29, "hand-right", gettext_noop("Right hand"), FRONT, RIGHT, "85562004"),
    Part(30, "elbow-left", gettext_noop("Left elbow"), FRONT, LEFT, None),
    Part(31, "hand-left", gettext_noop("Left hand"), FRONT, LEFT, "85562004"),
    Part(32, "armback-left", gettext_noop("Back of the left upper arm"), BACK, LEFT, "40983000"),
    Part(33, "leg-left", gettext_noop("Back of the left leg"), BACK, LEFT, None),
    Part(34, "buttock", gettext_noop("Buttocks"), BACK, NONE, "46862004"),
    Part(35, "loin", gettext_noop("Lower back"), BACK, NONE, "37822005"),
    Part(36, "column", gettext_noop("Spine"), BACK, NONE, "421060004"),
    Part(37, "head-back", gettext_noop("Back of the head"), BACK, NONE, "69536005"),
    Part(38, "nape", gettext_noop("Back of the neck"), BACK, NONE, "45048000"),
    Part(39, "armback-right", gettext_noop("Back of the right upper arm"), BACK, RIGHT, "40983000"),
    Part(40, "leg-right", gettext_noop("Back of the right leg"), BACK, RIGHT, None),
    Part(41, "back-right", gettext_noop("Right upper back"), BACK, RIGHT, "77568009"),
    Part(42, "clavicle-right", gettext_noop("Right collarbone"), FRONT, RIGHT, "51299004"),
    Part(43, "clavicle-left", gettext_noop("Left collarbone"), FRONT, LEFT, "51299004"),
    Part(44, "back-left", gettext_noop("Left upper back"), BACK, LEFT, "77568009"),
)

# The database's and the API's shape of a part: (id, name, label, view).
BODY_PARTS: tuple[tuple[int, str, str, str], ...] = tuple(
    (part.id, part.name, part.label, part.view) for part in PARTS
)
PARTS_BY_ID: dict[int, Part] = {part.id: part for part in PARTS}
PARTS_BY_NAME: dict[str, Part] = {part.name: part for part in PARTS}
# The parts never change at run time (a data migration loads them): their names and labels here
# save a query on every page and let a part's name be checked without the database. `label` of
# a Part (and the BodyPart row) is the English one, the FHIR export's text; LABELS holds the
# labels people read, in the active language (gettext_noop above marks them for translation).
LABELS: dict[str, Promise] = {part.name: gettext_lazy(part.label) for part in PARTS}
NAMES_BY_ID: dict[int, str] = {part.id: part.name for part in PARTS}


def label_of(name: str) -> str:
    """A part's label in the active language ("" for an unknown name)."""
    label = LABELS.get(name)
    return str(label) if label is not None else ""


def part_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Body parts for a <select>: grouped by view, sorted by label within a group (the labels
    of the active language, so sorted in its alphabet)."""
    return [
        (
            str(VIEW_LABELS[view]),
            sorted(
                ((part.name, label_of(part.name)) for part in PARTS if part.view == view),
                key=lambda choice: choice[1].casefold(),
            ),
        )
        for view in VIEW_LABELS
    ]
