"""The PEG-3 scale: its three questions, their LOINC codes and the score.

Sources, checked for this code:
- Krebs EE, Lorenz KA, Bair MJ, et al. Development and initial validation of the PEG, a
  three-item scale assessing pain intensity and interference. J Gen Intern Med.
  2009;24(6):733-738. doi:10.1007/s11606-009-0981-1 (the wording below, the 0-10 anchors and
  the score as the mean of the three items; the PEG is in the public domain).
- LOINC: panel 91148-7 "Pain intensity, Enjoyment of life, General activity [PEG]"; its items
  75893-8 (average pain, past week), 91145-3 (interference with enjoyment of life) and
  91146-1 (interference with general activity); 91147-9 "Mean score [PEG]" (LOINC's own note:
  the score is the average of the 3 item scores). The same codes are used by AHRQ CDS
  Connect's chronic-pain summary (CDS4CPM / Pain Management Summary, "Mean score [PEG]":
  91147-9) and LOINC's FHIR Questionnaire for 91148-7.
  NOTE: the issue brief listed 91145-3/91146-1/91147-9 as the three items and 91144-6 as the
  total; the published codes are shifted by one from that (91147-9 is the mean score, not an
  item), so these are the ones used.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext_lazy as _

PANEL = ("91148-7", "Pain intensity, Enjoyment of life, General activity [PEG]")
SCORE = ("91147-9", "Mean score [PEG]")
# (field, LOINC code, question, anchor at 0, anchor at 10)
ITEMS = (
    (
        "average",
        "75893-8",
        "What number best describes your pain on average in the past week?",
        "No pain",
        "Pain as bad as you can imagine",
    ),
    (
        "enjoyment",
        "91145-3",
        "What number best describes how, during the past week, pain has interfered with your "
        "enjoyment of life?",
        "Does not interfere",
        "Completely interferes",
    ),
    (
        "activity",
        "91146-1",
        "What number best describes how, during the past week, pain has interfered with your "
        "general activity?",
        "Does not interfere",
        "Completely interferes",
    ),
)

# What the patient reads: the same questions and anchors, in the page's language. ITEMS above
# stay the English source wording (FHIR carries it, with the LOINC codes: never translated).
# The Russian wording (locale/ru) is our own faithful translation of Krebs et al. 2009: we know
# of no published, validated Russian version of the PEG, so none is cited.
# field -> (question, anchor at 0, anchor at 10)
SHOWN = {
    "average": (
        _("What number best describes your pain on average in the past week?"),
        _("No pain"),
        _("Pain as bad as you can imagine"),
    ),
    "enjoyment": (
        _(
            "What number best describes how, during the past week, pain has interfered with "
            "your enjoyment of life?"
        ),
        _("Does not interfere"),
        _("Completely interferes"),
    ),
    "activity": (
        _(
            "What number best describes how, during the past week, pain has interfered with "
            "your general activity?"
        ),
        _("Does not interfere"),
        _("Completely interferes"),
    ),
}

# A rise of 1 point or more on the 0-10 mean is flagged for the doctor. The PEG was shown to
# be responsive to change in its validation study (Krebs et al. 2009, J Gen Intern Med
# 24:733-738), and a change of about one point on its 0-10 scale is the threshold most used
# for a clinically meaningful change; a smaller wobble week to week is noise.
MEANINGFUL_RISE = Decimal("1")


def peg_score(average: int, enjoyment: int, activity: int) -> Decimal:
    """The mean of the three items, to two decimals (LOINC 91147-9)."""
    total = Decimal(average + enjoyment + activity)
    return (total / 3).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rose_meaningfully(previous: Decimal | None, current: Decimal | None) -> bool:
    return previous is not None and current is not None and current - previous >= MEANINGFUL_RISE
