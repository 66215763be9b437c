from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diary.bodymap.parts import VIEW_LABELS, label_of
from diary.links import entry_link, page_link

INTENSITY_MIN = 0
INTENSITY_MAX = 10
# Clocks of phones and servers disagree a little; "the future" starts a minute from now.
CLOCK_SKEW = timedelta(minutes=1)


def validate_not_in_future(value: datetime) -> None:
    if value > timezone.now() + CLOCK_SKEW:
        raise ValidationError(_("This time is in the future."), code="future")


class BodyPart(models.Model):
    """One of the 44 regions of the body map. Ids and names are the original API's contract;
    the rows are diary.bodymap.parts, loaded by a data migration (a frozen copy of them)."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    name = models.SlugField(max_length=32, unique=True)
    label = models.CharField(max_length=64)
    view = models.CharField(max_length=5, choices=VIEW_LABELS)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        """The label people read, in the active language (`label` stays the English one)."""
        return label_of(self.name) or self.label


_body_parts_by_pk: dict[int, BodyPart] | None = None


def body_parts_by_pk() -> dict[int, BodyPart]:
    """The body parts by id, loaded once per process: the 44 parts are a fixed contract (a
    migration loads them; the admin shows them read-only). Treat them as read-only. An empty
    table (a test database being flushed) is never kept."""
    global _body_parts_by_pk
    if _body_parts_by_pk is None:
        parts = {part.pk: part for part in BodyPart.objects.order_by("pk")}
        if not parts:
            return parts
        _body_parts_by_pk = parts  # whole, at once: another thread never sees half of it
    return _body_parts_by_pk


class PainType(models.TextChoices):
    BURNING = "burning", _("Burning")
    STABBING = "stabbing", _("Stabbing")
    CUTTING = "cutting", _("Cutting")
    THROBBING = "throbbing", _("Throbbing")


# The triggers a patient can pick with one tap; their own ones are offered beside these.
PRESET_FACTORS = (
    "poor sleep",
    "stress",
    "weather",
    "long sitting",
    "exercise",
    "lifting",
    "screen time",
    "menstruation",
)
# What pages show for a preset (the stored and API value stays the English one above).
PRESET_FACTOR_LABELS = {
    "poor sleep": _("poor sleep"),
    "stress": _("stress"),
    "weather": _("weather"),
    "long sitting": _("long sitting"),
    "exercise": _("exercise"),
    "lifting": _("lifting"),
    "screen time": _("screen time"),
    "menstruation": _("menstruation"),
}


def factor_label(factor: str) -> str:
    """A factor as a page shows it: a preset translated, the patient's own words as written."""
    label = PRESET_FACTOR_LABELS.get(factor)
    return str(label) if label is not None else factor


MAX_FACTORS = 8
MAX_FACTOR_LENGTH = 40
# How far back "the factors you used before" looks: enough for months of entries, one query.
OWN_FACTORS_LOOKBACK = 500


def validate_factors(value: object) -> None:
    """The stored shape: a list of short strings. diary.services.normalise_factors says more
    precisely what is wrong with a patient's input; this guards every other write."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(_("Factors must be a list of text."), code="invalid")
    if len(value) > MAX_FACTORS:
        raise ValidationError(
            _("At most %(max)s factors per entry."), code="max_factors", params={"max": MAX_FACTORS}
        )
    for item in value:
        if not item or len(item) > MAX_FACTOR_LENGTH or "\x00" in item:
            raise ValidationError(_("A factor is 1 to 40 characters of text."), code="invalid")


class PainEntryQuerySet(models.QuerySet["PainEntry"]):
    def for_user(self, user: settings.AUTH_USER_MODEL) -> PainEntryQuerySet:
        return self.filter(owner=user)

    def since(self, moment: datetime) -> PainEntryQuerySet:
        return self.filter(date_recorded__gte=moment)

    def last_in_parts(self, names: list[str]) -> PainEntry | None:
        """The latest entry in any of these parts (by name): the new form's defaults."""
        return self.filter(body_part__name__in=names).order_by("-date_recorded", "-id").first()

    def max_intensity_by_part(self) -> dict[int, int]:
        """{body_part_id: highest intensity} over this queryset, in one query."""
        rows = self.order_by().values("body_part_id").annotate(top=models.Max("intensity"))
        return {row["body_part_id"]: row["top"] for row in rows}

    def used_factors(self) -> list[str]:
        """The factors used in these entries that are not presets, most recent first (one
        query over the latest entries): a patient's own triggers, offered as chips."""
        seen: dict[str, None] = {}
        recent = self.order_by("-date_recorded", "-id")[:OWN_FACTORS_LOOKBACK]
        for factors in recent.values_list("factors", flat=True):
            for factor in factors or ():
                if factor not in PRESET_FACTORS:
                    seen.setdefault(factor, None)
        return list(seen)


class PainEntry(models.Model):
    """A pain felt in one body part at one time (the API calls it a "stat")."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pain_entries"
    )
    body_part = models.ForeignKey(BodyPart, on_delete=models.PROTECT, related_name="entries")
    pain_type = models.CharField(max_length=16, choices=PainType.choices)
    intensity = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(INTENSITY_MIN), MaxValueValidator(INTENSITY_MAX)]
    )
    # TextField's max_length reaches forms only; the validator makes full_clean() enforce it.
    description = models.TextField(
        blank=True,
        max_length=2000,
        validators=[MaxLengthValidator(2000), ProhibitNullCharactersValidator()],
    )
    date_recorded = models.DateTimeField(default=timezone.now, validators=[validate_not_in_future])
    # What may have set the pain off ("poor sleep", "stress", the patient's own words): a short
    # list kept with the entry, so the digest can compare pain with and without each.
    factors = models.JSONField(default=list, blank=True, validators=[validate_factors])
    last_modified = models.DateTimeField(auto_now=True)
    # A UUID the client picked for one recording (the offline outbox, an API client's retry):
    # a resend finds what was stored instead of storing it again. One recording in several
    # parts is several entries sharing it, hence the body part in the constraint.
    client_id = models.UUIDField(null=True, blank=True, editable=False)

    objects = PainEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-date_recorded", "-id"]
        verbose_name_plural = _("pain entries")
        indexes = [models.Index(fields=["owner", "-date_recorded"], name="painentry_owner_date")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(intensity__gte=INTENSITY_MIN, intensity__lte=INTENSITY_MAX),
                name="painentry_intensity_0_10",
                violation_error_message=_("Intensity must be between 0 and 10."),
            ),
            models.CheckConstraint(
                condition=models.Q(pain_type__in=PainType.values),
                name="painentry_pain_type_valid",
                violation_error_message=_("Unknown pain type."),
            ),
            models.UniqueConstraint(
                fields=["owner", "client_id", "body_part"],
                condition=models.Q(client_id__isnull=False),
                name="painentry_owner_client_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.body_part} {self.pain_type} {self.intensity}/10"

    @property
    def factor_labels(self) -> list[str]:
        """The factors as a page shows them (presets in the active language)."""
        return [factor_label(factor) for factor in self.factors or ()]

    # Links for the entry list (diary/links.py: no reverse() per entry).
    @property
    def edit_url(self) -> str:
        return entry_link("diary:entry-edit", self.pk)

    @property
    def delete_url(self) -> str:
        return entry_link("diary:entry-delete", self.pk)

    @property
    def part_history_url(self) -> str:
        return f"{page_link('diary:diary')}?part={self.body_part.name}"


class Note(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notes"
    )
    title = models.CharField(max_length=255, validators=[ProhibitNullCharactersValidator()])
    body = models.TextField(
        blank=True,
        max_length=20000,
        validators=[MaxLengthValidator(20000), ProhibitNullCharactersValidator()],
    )
    shared = models.BooleanField(
        _("shared with my doctors"),
        default=False,
        help_text=_("Doctors you are linked with can read a shared note; others stay private."),
    )
    created_on = models.DateTimeField(auto_now_add=True)
    last_modified = models.DateTimeField(auto_now=True)
    # As PainEntry.client_id: a resent note is found, not stored twice.
    client_id = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-last_modified", "-id"]
        indexes = [models.Index(fields=["owner", "-last_modified"], name="note_owner_modified")]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "client_id"],
                condition=models.Q(client_id__isnull=False),
                name="note_owner_client_id_unique",
            )
        ]

    def __str__(self) -> str:
        return self.title
