from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clinical.models import (
    DOSE_MAX,
    PEG_MAX,
    PEG_MIN,
    RELIEF_MAX,
    RELIEF_MIN,
    Medication,
    Preferences,
)
from clinical.peg import SHOWN
from diary.forms import DateTimeLocalInput, now_to_the_minute
from diary.models import CLOCK_SKEW

DOSE_FIELD_OPTIONS = {
    "max_digits": 7,
    "decimal_places": 2,
    "min_value": Decimal("0.01"),
    "max_value": DOSE_MAX,
}


class MedicationForm(forms.ModelForm):
    class Meta:
        model = Medication
        fields = ["name", "usual_dose", "unit", "kind"]
        labels = {
            "name": _("Name"),
            "usual_dose": _("Usual dose"),
            "unit": _("Unit"),
            "kind": _("Kind"),
        }
        widgets = {
            "kind": forms.RadioSelect,
            "name": forms.TextInput(
                attrs={"placeholder": _("e.g. ibuprofen"), "autocomplete": "off"}
            ),
            "unit": forms.TextInput(
                attrs={"placeholder": pgettext_lazy("unit", "mg"), "list": "unit-choices"}
            ),
        }


class DoseForm(forms.Form):
    """A dose of one medication, possibly back-dated."""

    taken_at = forms.DateTimeField(label=_("Taken at"), widget=DateTimeLocalInput())
    dose = forms.DecimalField(label=_("Dose"), **DOSE_FIELD_OPTIONS)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["taken_at"].widget.attrs["max"] = now_to_the_minute().strftime("%Y-%m-%dT%H:%M")

    def clean_taken_at(self) -> datetime:
        value: datetime = self.cleaned_data["taken_at"]
        if value > timezone.now() + CLOCK_SKEW:
            raise ValidationError(_("This time is in the future: choose now or earlier."))
        return value


class ReliefForm(forms.Form):
    relief = forms.TypedChoiceField(
        choices=[(value, str(value)) for value in range(RELIEF_MIN, RELIEF_MAX + 1)],
        coerce=int,
        required=False,
        empty_value=None,
    )
    # "Don't ask": the question goes away without an answer.
    dismiss = forms.BooleanField(required=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("relief") is None and not data.get("dismiss"):
            raise ValidationError(_("Choose how much it helped, from 0 to 10."))
        return data


PEG_CHOICES = [(value, str(value)) for value in range(PEG_MIN, PEG_MAX + 1)]


class CheckInForm(forms.Form):
    average = forms.TypedChoiceField(
        label=SHOWN["average"][0], choices=PEG_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    enjoyment = forms.TypedChoiceField(
        label=SHOWN["enjoyment"][0], choices=PEG_CHOICES, coerce=int, widget=forms.RadioSelect
    )
    activity = forms.TypedChoiceField(
        label=SHOWN["activity"][0], choices=PEG_CHOICES, coerce=int, widget=forms.RadioSelect
    )

    def items(self) -> list[dict]:
        """Each question with its anchors, for the template."""
        return [
            {"field": self[name], "low": low, "high": high}
            for name, (_text, low, high) in SHOWN.items()
        ]


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Preferences
        fields = [
            "checkin_weekday",
            "daily_reminder",
            "daily_reminder_time",
            "checkin_reminder",
            "chat_email",
        ]
        widgets = {"daily_reminder_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}
