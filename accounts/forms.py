from __future__ import annotations

import functools
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    UserCreationForm,
)
from django.forms.utils import flatatt
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts import services, throttling
from accounts.models import User, available_timezones, email_taken


class RegisterForm(UserCreationForm):
    email = forms.EmailField(label=_("Email"), required=True, max_length=254)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if email_taken(email):
            raise forms.ValidationError(_("A user with that email address already exists."))
        return email


class ThrottledSignInMixin:
    """Counts the attempt against the sign-in limits before the password is checked."""

    throttled_for: int | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # a missing field: no password is checked
        attempt = throttling.begin_sign_in(self.request, username)
        if attempt.retry_after is not None:
            self.throttled_for = attempt.retry_after
            raise forms.ValidationError(
                throttling.too_many_message(attempt.retry_after), code="throttled"
            )
        cleaned = super().clean()  # a wrong password raises: the attempt stays counted
        attempt.succeeded()
        return cleaned


class ThrottledAuthenticationForm(ThrottledSignInMixin, AuthenticationForm):
    """Django's sign-in form under the sign-in limits."""


class ThrottledAdminAuthenticationForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """The admin's sign-in form under the same limits (it had none)."""


def site_zone_label() -> str:
    return _("Site default (%(zone)s)") % {"zone": settings.TIME_ZONE}


def timezone_choices() -> list[tuple[str, str]]:
    return [("", site_zone_label())] + [
        (name, name.replace("_", " ")) for name in sorted(available_timezones())
    ]


@functools.cache
def _zone_options() -> str:
    # The named zones never change while the process runs; the first, empty choice is worded
    # per language, so it is not part of this.
    return "".join(
        format_html('<option value="{}">{}</option>', value, label)
        for value, label in timezone_choices()[1:]
    )


class ZoneSelect(forms.Select):
    """The time zone list as one cached run of ~600 <option>s. Django renders each option
    through a template: that took 20 ms, more than the rest of the profile page together."""

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer: Any = None) -> str:
        chosen = value or ""
        options = _zone_options()
        if chosen:
            options = options.replace(
                format_html('<option value="{}">', chosen),
                format_html('<option value="{}" selected>', chosen),
                1,
            )
        attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        first = format_html(
            '<option value=""{}>{}</option>', "" if chosen else " selected", site_zone_label()
        )
        return format_html("<select{}>{}{}</select>", flatatt(attrs), first, mark_safe(options))


def language_choices() -> list[tuple[str, str]]:
    return [("", _("The browser's language")), *settings.LANGUAGES]


class ProfileForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        choices=timezone_choices, required=False, label=_("Time zone"), widget=ZoneSelect
    )
    language = forms.ChoiceField(
        choices=language_choices,
        required=False,
        label=_("Language"),
        help_text=_("Pages and emails are in this language."),
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "timezone", "language", "digest_emails"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if email_taken(email, exclude_pk=self.instance.pk):
            raise forms.ValidationError(_("A user with that email address already exists."))
        return email

    @property
    def email_changed(self) -> bool:
        """A new address must be proven again; new capitals on the same one need not."""
        if "email" not in self.changed_data:
            return False
        before = (self.initial.get("email") or "").strip().casefold()
        return self.cleaned_data["email"].casefold() != before

    def save(self, commit: bool = True) -> User:
        if self.email_changed:
            self.instance.email_verified_at = None
        return super().save(commit)


class DeleteAccountForm(forms.Form):
    """The password that confirms deleting one's own account (limited like a sign-in)."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("To make sure it is you, and not someone at an unlocked computer."),
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.throttled_for: int | None = None

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        try:
            services.confirm_password(user=self.user, password=password)
        except services.PasswordRefused as exc:
            self.throttled_for = exc.retry_after
            raise forms.ValidationError(exc.message, code="password") from exc
        return password


class LimitedPasswordChangeForm(PasswordChangeForm):
    """Django's password change, with wrong old passwords limited as on the API
    (throttling.old_password_checks): a stolen session must not guess the password forever."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.throttled_for: int | None = None

    def clean_old_password(self) -> str:
        limiter = throttling.old_password_checks()
        key = str(self.user.pk)
        # Reserved before the check, as a sign-in is; a right old password gives it back.
        if (wait := limiter.hit(key)) is not None:
            self.throttled_for = wait
            raise forms.ValidationError(throttling.too_many_message(wait), code="throttled")
        old_password = super().clean_old_password()
        limiter.reset(key)
        return old_password


class RecipientLanguagePasswordResetForm(PasswordResetForm):
    """Django's reset request, its email in the account's own language: the language chosen on
    the profile, else the language of the page the request came from (an account that never
    chose one, asked for by a visitor who is signed out and may be on another device)."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        user = context.get("user")
        language = getattr(user, "language", "") or translation.get_language()
        with translation.override(language):
            context = {**context, "lifetime": services.reset_link_lifetime()}
            super().send_mail(
                subject_template_name,
                email_template_name,
                context,
                from_email,
                to_email,
                html_email_template_name,
            )
