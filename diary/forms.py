"""The diary's forms. They are ModelForms for what they show (fields, labels, an instance's values
as the initial ones) but they never write to their instance: the services validate and save, so a
refused change leaves the object as it was (see ServiceValidatedForm)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from diary.bodymap import LABELS, label_of, part_choices
from diary.models import (
    CLOCK_SKEW,
    INTENSITY_MAX,
    INTENSITY_MIN,
    PRESET_FACTORS,
    BodyPart,
    Note,
    PainEntry,
    PainType,
    factor_label,
)
from diary.services import normalise_factors

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
# The scale, explained once where the intensity is chosen.
SCALE_HELP = _("0 no pain … 10 worst imaginable")


def join_labels(labels: list[str]) -> str:
    """ "Left knee", "Left knee and Right knee", "Neck, Left knee and Right knee"."""
    if len(labels) < 2:
        return "".join(labels)
    return gettext("%(some)s and %(last)s") % {"some": ", ".join(labels[:-1]), "last": labels[-1]}


def now_to_the_minute() -> datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=DATETIME_LOCAL_FORMAT)


class ServiceValidatedForm(forms.ModelForm):
    """A ModelForm that reads its instance but leaves it alone.

    Django's ModelForm copies the cleaned values into its instance during is_valid(), even when
    the form has errors; a view would then have to undo that (refresh_from_db) before showing the
    object again. Here the form only checks its fields, and diary.services validates the whole
    object on a copy before changing the real one."""

    def _post_clean(self) -> None:
        pass


def _part_choices() -> list[Any]:
    return [("", gettext("Choose where it hurts…")), *part_choices()]


class FactorsField(forms.MultipleChoiceField):
    """Chips for the presets and the patient's own factors. Any value is taken here: a chip
    may name a factor the list no longer shows, and the service's rule decides what is valid."""

    widget = forms.CheckboxSelectMultiple

    def valid_value(self, value: str) -> bool:
        return True


class PainEntryForm(ServiceValidatedForm):
    # The choices come from the constant list of parts, so a crafted name (NUL bytes included)
    # is refused before it reaches the database; clean_body_part turns the name into the row.
    body_part = forms.ChoiceField(label=_("Where"), choices=_part_choices)
    pain_type = forms.ChoiceField(
        label=_("Kind of pain"),
        choices=PainType.choices,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    intensity = forms.TypedChoiceField(
        label=_("How strong"),
        help_text=SCALE_HELP,
        choices=[(value, str(value)) for value in range(INTENSITY_MIN, INTENSITY_MAX + 1)],
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    date_recorded = forms.DateTimeField(label=_("When"), widget=DateTimeLocalInput())
    description = forms.CharField(
        label=_("What happened (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("Climbing stairs, after a run…")}),
    )
    factors = FactorsField(label=_("What may have set it off (optional)"), required=False)
    factor_other = forms.CharField(
        label=_("Something else"),
        required=False,
        max_length=200,
        help_text=_("Your own words; several separated by commas."),
        widget=forms.TextInput(attrs={"placeholder": _("e.g. cold, long drive"), "maxlength": 200}),
    )

    class Meta:
        model = PainEntry
        fields = ["body_part", "pain_type", "intensity", "date_recorded", "description", "factors"]

    def __init__(self, *args: Any, owner: User | None = None, **kwargs: Any) -> None:
        """`owner`: whose own factors are offered as chips (by default the instance's owner)."""
        super().__init__(*args, **kwargs)
        owner_id = owner.pk if owner is not None else self.instance.owner_id
        own = PainEntry.objects.filter(owner_id=owner_id).used_factors() if owner_id else []
        if self.is_bound:
            chosen = self.fields["factors"].widget.value_from_datadict(self.data, None, "factors")
        else:
            chosen = self.initial.get("factors")
        # The chips: presets, then the patient's own, then whatever this entry or the submitted
        # data holds beyond them (so nothing chosen ever disappears from the form).
        names = dict.fromkeys([*PRESET_FACTORS, *own, *(chosen or [])])
        self.fields["factors"].choices = [
            (name, factor_label(name))
            for name in names
            if isinstance(name, str) and "\x00" not in name
        ]
        if self.instance.body_part_id and "body_part" not in (kwargs.get("initial") or {}):
            # The model's initial value is the part's id; the choices are its name.
            self.initial["body_part"] = self.instance.body_part.name
        # The browser's picker refuses later times; the server check below is the real one.
        self.fields["date_recorded"].widget.attrs["max"] = now_to_the_minute().strftime(
            DATETIME_LOCAL_FORMAT
        )

    def clean_body_part(self) -> BodyPart:
        return BodyPart.objects.get(name=self.cleaned_data["body_part"])

    def clean_date_recorded(self) -> datetime:
        value: datetime = self.cleaned_data["date_recorded"]
        if value > timezone.now() + CLOCK_SKEW:
            raise ValidationError(_("This time is in the future: choose now or earlier."))
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        # "Something else" joins the chips; the services take one list, `factors`.
        other = cleaned.pop("factor_other", "") or ""
        words = [word.strip() for word in other.split(",")]
        chosen = [*cleaned.get("factors", []), *(word for word in words if word)]
        try:
            cleaned["factors"] = normalise_factors(chosen)
        except ValidationError as error:
            self.add_error("factors", error.message_dict["factors"])
        return cleaned

    @property
    def part_names(self) -> list[str]:
        """The known parts this form is for (from the map, the data or the instance)."""
        if self.is_bound:
            value = PartsSelect().value_from_datadict(self.data, None, "body_part")
        else:
            value = self.initial.get("body_part")
        names = value if isinstance(value, list | tuple) else [value]
        return [name for name in dict.fromkeys(names) if name in LABELS]

    @property
    def part_label(self) -> str:
        """The parts this form is for, as a person reads them: "Left knee and Right knee"."""
        return join_labels([label_of(name) for name in self.part_names])


class PartsSelect(forms.Select):
    """A plain <select> of one part that also reads several: the map's "Select several" sends one
    hidden `body_part` input per selected region."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if hasattr(data, "getlist"):
            return data.getlist(name)
        value = data.get(name)
        return [value] if isinstance(value, str) else value


def client_id_field() -> forms.UUIDField:
    """A new recording's id, picked when the form is shown: sending the form twice (a double
    click, the offline outbox retrying, which gives each recording its own) stores it once."""
    return forms.UUIDField(required=False, initial=uuid4, widget=forms.HiddenInput)


class RecordPainForm(PainEntryForm):
    """A new pain, felt in one part or in several at once (one entry per part)."""

    body_part = forms.MultipleChoiceField(
        label=_("Where"), choices=_part_choices, widget=PartsSelect
    )
    client_id = client_id_field()

    def clean_body_part(self) -> list[BodyPart]:  # type: ignore[override]
        names = list(dict.fromkeys(self.cleaned_data["body_part"]))
        rows = {part.name: part for part in BodyPart.objects.filter(name__in=names)}
        return [rows[name] for name in names]


class NoteForm(ServiceValidatedForm):
    class Meta:
        model = Note
        fields = ["title", "body", "shared"]
        labels = {"title": _("Title"), "body": _("Note"), "shared": _("Shared with my doctors")}
        help_texts = {
            "shared": _("Doctors you are linked with can read it. Unticked, only you can.")
        }
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}


class NewNoteForm(NoteForm):
    client_id = client_id_field()


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where the form has that field."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields and field != NON_FIELD_ERRORS else None
            form.add_error(target, errors)
    else:
        form.add_error(None, error)
