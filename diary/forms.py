from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from diary.bodymap import LABELS, part_choices
from diary.models import CLOCK_SKEW, INTENSITY_MAX, INTENSITY_MIN, BodyPart, PainType

DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def now_to_the_minute() -> datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=DATETIME_LOCAL_FORMAT)


class PainEntryForm(forms.Form):
    # The choices come from the constant list of parts, so a crafted name (NUL bytes included)
    # is refused before it reaches the database; clean_body_part turns the name into the row.
    body_part = forms.ChoiceField(
        label="Where",
        choices=lambda: [("", "Choose where it hurts…"), *part_choices()],
    )
    pain_type = forms.ChoiceField(
        label="Kind of pain",
        choices=PainType.choices,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    intensity = forms.TypedChoiceField(
        label="How strong",
        choices=[(value, str(value)) for value in range(INTENSITY_MIN, INTENSITY_MAX + 1)],
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    date_recorded = forms.DateTimeField(label="When", widget=DateTimeLocalInput())
    description = forms.CharField(
        label="What happened (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Climbing stairs, after a run…"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The browser's picker refuses later times; the server check below is the real one.
        self.fields["date_recorded"].widget.attrs["max"] = now_to_the_minute().strftime(
            DATETIME_LOCAL_FORMAT
        )

    def clean_body_part(self) -> BodyPart:
        return BodyPart.objects.get(name=self.cleaned_data["body_part"])

    def clean_date_recorded(self) -> datetime:
        value: datetime = self.cleaned_data["date_recorded"]
        if value > timezone.now() + CLOCK_SKEW:
            raise ValidationError("This time is in the future: choose now or earlier.")
        return value

    @property
    def part_label(self) -> str:
        """The label of the part this form is for, when one was given (map click or data)."""
        name = self.data.get("body_part") if self.is_bound else self.initial.get("body_part")
        return LABELS.get(name or "", "")


class NoteForm(forms.Form):
    title = forms.CharField(label="Title", max_length=255)
    body = forms.CharField(
        label="Note",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    shared = forms.BooleanField(
        label="Shared with my doctors",
        required=False,
        help_text="Doctors you are linked with can read it. Unticked, only you can.",
    )


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where the form has that field."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            target = field if field in form.fields and field != NON_FIELD_ERRORS else None
            form.add_error(target, errors)
    else:
        form.add_error(None, error)
