from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language

from accounts import exports, services, throttling
from accounts.forms import (
    DeleteAccountForm,
    LimitedPasswordChangeForm,
    ProfileForm,
    RecipientLanguagePasswordResetForm,
    RegisterForm,
    ThrottledAuthenticationForm,
)
from accounts.models import DOCTORS, CareLink, DiaryAccess, User


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The site's front door: a visitor reads what Painmap is; a signed-in person is sent where
    their work is (see `landing_url`), so "/" and the brand link never show a page of links."""
    if not request.user.is_authenticated:
        return render(request, "accounts/welcome.html")
    if (landing := landing_url(request.user)) is not None:
        return redirect(landing)
    return render(request, "accounts/home.html")


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = RegisterForm(request.POST or None)
    status = 200
    wait: int | None = None
    if request.method == "POST":
        limiter = throttling.registrations()
        address = throttling.client_address(request)
        if (wait := limiter.retry_after(address)) is not None:
            form.add_error(None, throttling.too_many_message(wait))
            status = 429
        elif not form.is_valid():
            status = 400
        elif (wait := limiter.hit(address)) is not None:  # counted atomically before creating
            form.add_error(None, throttling.too_many_message(wait))
            status = 429
        else:
            try:
                user = services.register_user(
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password1"],
                    language=translation.get_language(),
                )
            except services.UsernameTaken as exc:  # registered meanwhile by someone else
                form.add_error("username", str(exc))
                status = 400
            else:
                login(request, user, backend="accounts.backends.ModelBackend")
                throttling.remember_registration(request, user.username)
                messages.success(
                    request,
                    gettext("Welcome to Painmap, %(username)s!") % {"username": user.username},
                )
                if services.send_verification_email(user=user, site=_site(request)):
                    messages.info(request, _link_sent(user))
                response = redirect("home")
                throttling.remember_device(request, response)
                return response
    response = render(request, "accounts/register.html", {"form": form}, status=status)
    _mark_throttled(response, wait, otherwise=status)
    return response


class SignInView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: ThrottledAuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        throttling.remember_device(self.request, response)
        return response

    def get_default_redirect_url(self) -> str:
        """Straight to the person's work; a safe `?next=` still wins (LoginView checks it
        first, in get_success_url), and a user without a role gets the home page."""
        return landing_url(self.request.user) or super().get_default_redirect_url()

    def form_invalid(self, form: ThrottledAuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        _mark_throttled(response, form.throttled_for, otherwise=400)
        return response


sign_in = SignInView.as_view()


def _mark_throttled(response: HttpResponse, seconds: int | None, otherwise: int) -> None:
    if seconds:
        response.status_code = 429
        response["Retry-After"] = str(seconds)
    else:
        response.status_code = otherwise


@require_http_methods(["GET", "POST"])
def admin_sign_in(request: HttpRequest) -> HttpResponse:
    """The admin's own sign-in page (its form is ThrottledAdminAuthenticationForm, set in
    accounts/admin.py), answering 429 when throttled and remembering the browser."""
    response = admin.site.login(request)
    form = (getattr(response, "context_data", None) or {}).get("form")
    if request.method == "POST" and getattr(form, "throttled_for", None):
        _mark_throttled(response, form.throttled_for, otherwise=response.status_code)
    throttling.remember_device(request, response)
    return response


@require_http_methods(["GET", "POST"])
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            user = form.save()
            messages.success(request, gettext("Your profile was saved."))
            if form.email_changed and (wait := _send_new_link(request, user)) is not None:
                messages.warning(
                    request,
                    gettext("No link was sent. %(wait)s") % {"wait": _wait_for_link(wait)},
                )
            return redirect("profile")
        return _profile_page(request, form, PasswordChangeForm(request.user), status=400)
    return _profile_page(request, form, PasswordChangeForm(request.user))


@require_POST
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = LimitedPasswordChangeForm(request.user, request.POST)
    if form.is_valid():
        with transaction.atomic():
            user = form.save()
            services.end_credentials(user=user, reason="password-changed")
        update_session_auth_hash(request, user)  # this browser stays signed in (a new key)
        messages.success(
            request,
            gettext(
                "Your password was changed. You were signed out everywhere else, "
                "and apps using the API must sign in again."
            ),
        )
        return redirect("profile")
    request.user.refresh_from_db()
    response = _profile_page(request, ProfileForm(instance=request.user), form, status=400)
    _mark_throttled(response, form.throttled_for, otherwise=400)
    return response


def _profile_page(
    request: HttpRequest,
    form: ProfileForm,
    password_form: PasswordChangeForm,
    status: int = 200,
    verification_error: str = "",
) -> HttpResponse:
    # Django's form focuses the old password: on the profile that jumped a phone's page down to
    # the password box and opened the keyboard before anyone asked to change it.
    password_form.fields["old_password"].widget.attrs.pop("autofocus", None)
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "password_form": password_form,
            "verification_error": verification_error,
            "session_idle_minutes": settings.SESSION_IDLE_MINUTES,
            "token_idle_days": settings.TOKEN_IDLE_DAYS,
        },
        status=status,
    )


@require_GET
@login_required
def doctor_directory(request: HttpRequest) -> HttpResponse:
    """Patients find doctors by name or username (only members of Doctors are listed)."""
    # NUL cannot be in a name, and PostgreSQL cannot even compare text holding one.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    doctors = User.objects.filter(groups__name=DOCTORS, is_active=True).exclude(pk=request.user.pk)
    if query:
        doctors = doctors.filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
    doctors = doctors.order_by("last_name", "first_name", "username")[:50]
    open_links = dict(
        CareLink.objects.open()
        .filter(patient=request.user, doctor__in=doctors)
        .values_list("doctor_id", "status")
    )
    # A doctor who declined this patient lately cannot be asked again yet: say until when.
    declined = services.declined_until(patient=request.user, doctors=doctors)
    return render(
        request,
        "accounts/doctors.html",
        {
            "query": query,
            "rows": [
                (doctor, open_links.get(doctor.pk), declined.get(doctor.pk)) for doctor in doctors
            ],
        },
    )


@require_POST
@login_required
def link_request(request: HttpRequest, username: str) -> HttpResponse:
    doctor = get_object_or_404(User, username=username, groups__name=DOCTORS, is_active=True)
    try:
        services.request_link(patient=request.user, doctor=doctor)
    except services.LinkError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, gettext("Request sent to %(name)s.") % {"name": doctor.display_name()}
        )
    return redirect("care_team")


@require_GET
@login_required
def care_team(request: HttpRequest) -> HttpResponse:
    """A person's links: requests to answer or withdraw, current and past doctors/patients."""
    links = list(CareLink.objects.involving(request.user).select_related("patient", "doctor"))
    return render(
        request,
        "accounts/care_team.html",
        {
            "pending": [link for link in links if link.status == CareLink.Status.PENDING],
            "active": [link for link in links if link.status == CareLink.Status.ACTIVE],
            "closed": [link for link in links if link.status not in CareLink.OPEN_STATUSES],
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def link_change(request: HttpRequest, pk: int, status: str) -> HttpResponse:
    """Accept, decline, withdraw or end a link. GET asks for confirmation; POST does it."""
    if status not in LINK_CHANGED:
        raise Http404("Unknown change")
    link = get_object_or_404(
        CareLink.objects.involving(request.user).select_related("patient", "doctor"), pk=pk
    )
    if request.method == "GET":
        return render(request, "accounts/link_confirm.html", {"link": link, "status": status})
    try:
        services.change_link(link=link, by=request.user, status=status)
    except services.LinkError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, LINK_CHANGED[status])
    return redirect("care_team")


LINK_CHANGED = {
    "active": _("Request accepted: you can now read this patient's diary and chat."),
    "declined": _("Request declined."),
    "ended": _("The link has ended."),
}


@require_GET
@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    """ "Who viewed my diary": every read of the user's diary data by someone else."""
    reads = DiaryAccess.objects.filter(patient=request.user).select_related("viewer")[:200]
    return render(request, "accounts/access_log.html", {"reads": reads})


@require_GET
@login_required
def account_export(request: HttpRequest) -> HttpResponse:
    """The "download everything" file: the whole account as JSON (see accounts.exports)."""
    return exports.account_export_response(request.user)


class SignOutView(auth_views.LogoutView):
    """Django's sign-out (POST only), which also ends the API token and closes the sockets this
    browser opened: signing out on the web must not leave an API client or a chat box signed in."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user, session_key = request.user, request.session.session_key
        response = super().post(request, *args, **kwargs)
        if user.is_authenticated:
            services.sign_out(user=user, session_key=session_key)
        return response


sign_out = SignOutView.as_view()


@require_http_methods(["GET", "POST"])
@login_required
def account_delete(request: HttpRequest) -> HttpResponse:
    """Delete one's own account. GET explains what goes and what stays and asks for the
    password; POST with the right password deletes, signs out and goes home."""
    form = DeleteAccountForm(request.user, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.delete_account(user=request.user)
            logout(request)
            messages.success(
                request, gettext("Your account and your data were deleted. Take care.")
            )
            return redirect("home")
        status = 429 if form.throttled_for else 400
    user = request.user
    context = {
        "form": form,
        "entry_count": user.pain_entries.count(),
        "note_count": user.notes.count(),
        "sent_count": user.messages_sent.count(),
        "open_links": CareLink.objects.open().involving(user).count(),
    }
    return render(request, "accounts/delete.html", context, status=status)


# ---- Password reset by email --------------------------------------------------------------------


class PasswordResetRequestView(auth_views.PasswordResetView):
    """Django's reset request, limited per client address and per email address.

    A known and an unknown address get the same page and count against the same limits, so the
    form cannot tell anyone whether an address has an account. The email also goes to an
    unverified address: following its link proves the address (see PasswordResetConfirm).
    """

    template_name = "accounts/password_reset_form.html"
    form_class = RecipientLanguagePasswordResetForm
    subject_template_name = "accounts/password_reset_subject.txt"
    email_template_name = "accounts/password_reset_email.txt"

    def form_valid(self, form: RecipientLanguagePasswordResetForm) -> HttpResponse:
        limiter = throttling.password_resets()
        keys = [
            f"address:{throttling.client_address(self.request)}",
            f"email:{form.cleaned_data['email'].strip().casefold()}",
        ]
        # Each key is counted atomically before the email goes out (parallel requests cannot
        # all slip under the limit).
        waits = [wait for key in keys if (wait := limiter.hit(key)) is not None]
        if waits:
            form.add_error(None, throttling.too_many_message(max(waits)))
            response = self.form_invalid(form)
            response.status_code = 429
            response["Retry-After"] = str(max(waits))
            return response
        return super().form_valid(form)  # the email's link lifetime: in the form's send_mail

    def form_invalid(self, form: RecipientLanguagePasswordResetForm) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class PasswordResetDone(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "lifetime": services.reset_link_lifetime()}


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    """Django's "choose a new password" step, ending the account's other credentials."""

    template_name = "accounts/password_reset_confirm.html"

    def dispatch(self, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().dispatch(*args, **kwargs)
        if not self.validlink and response.status_code == 200:
            response.status_code = 400  # the "this link does not work" page
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "lifetime": services.reset_link_lifetime()}

    def form_invalid(self, form: SetPasswordForm) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 400
        return response

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        with transaction.atomic():
            # Saving the new password changes the session hash: every session signed in with
            # the old one (the other browsers, a thief's) ends at its next request.
            response = super().form_valid(form)
            # The token and every socket end too, as after any password change.
            services.end_credentials(user=form.user, reason="password-reset")
            # The link came to this address, so following it proved the address.
            services.mark_email_verified(user=form.user)
        return response


password_reset = PasswordResetRequestView.as_view()
password_reset_done = PasswordResetDone.as_view()
password_reset_confirm = PasswordResetConfirm.as_view()
password_reset_complete = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)


# ---- Email verification -------------------------------------------------------------------------


def _site(request: HttpRequest) -> str:
    """ "scheme://host" of this request: links in emails lead back where the person came from
    (ALLOWED_HOSTS keeps a forged Host header out)."""
    return f"{request.scheme}://{request.get_host()}"


def _link_sent(user: User) -> str:
    days = settings.EMAIL_VERIFICATION_DAYS
    return ngettext(
        "We sent a link to %(email)s to confirm your address. It works for %(days)s day.",
        "We sent a link to %(email)s to confirm your address. It works for %(days)s days.",
        days,
    ) % {"email": user.email, "days": days}


def _send_new_link(request: HttpRequest, user: User) -> int | None:
    """Send a verification link and say so in a message; the seconds to wait when limited."""
    try:
        sent = services.request_verification_email(user=user, site=_site(request))
    except services.EmailThrottled as exc:
        return exc.seconds
    if sent:
        messages.info(request, _link_sent(user))
    else:
        messages.error(request, gettext("We could not send the email just now. Try again later."))
    return None


def _wait_for_link(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many links were sent to you lately. Ask for a new one in %(minutes)s minute.",
        "Too many links were sent to you lately. Ask for a new one in %(minutes)s minutes.",
        minutes,
    ) % {"minutes": minutes}


@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: GET shows the address and a button, the button's POST proves it.

    A button, not the GET itself, because mail scanners open every link in a message: had the
    GET verified, an address someone else typed at registration would count as proven the moment
    its owner's scanner looked, and the digest would follow. No sign-in needed: the link is often
    opened on another device (the phone with the mail app).
    """
    try:
        if request.method == "POST":
            user = services.verify_email(token=token)
            return render(request, "accounts/verify_email.html", {"verified": user})
        user = services.check_verification_token(token=token)
    except services.VerificationError as exc:
        return render(request, "accounts/verify_email.html", {"error": exc.message}, status=400)
    if user.email_verified:
        return render(request, "accounts/verify_email.html", {"verified": user})
    return render(request, "accounts/verify_email.html", {"to_confirm": user})


@require_POST
@login_required
def resend_verification(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.email_verified:
        messages.info(request, gettext("Your email address is already verified."))
        return redirect("profile")
    wait = _send_new_link(request, user)
    if wait is None:
        return redirect("profile")
    response = _profile_page(
        request,
        ProfileForm(instance=user),
        PasswordChangeForm(user),
        status=429,
        verification_error=_wait_for_link(wait),
    )
    response["Retry-After"] = str(wait)
    return response


@require_http_methods(["GET", "POST"])
@login_required
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every other session, the API token and every socket; this browser stays signed in.
    GET asks for confirmation; POST does it."""
    if request.method == "GET":
        return render(request, "accounts/sign_out_everywhere.html")
    services.end_credentials(user=request.user, reason="signed-out-everywhere")
    update_session_auth_hash(request, request.user)
    messages.success(
        request,
        gettext(
            "You were signed out on every other browser and app. You are still signed in here."
        ),
    )
    return redirect("profile")


def landing_url(user: User) -> str | None:
    """Where a signed-in person's work is: a doctor's patients, a patient's diary. None for a
    user in neither group (a new staff account, say), who gets the home page that says so."""
    if user.is_doctor:
        return reverse("diary:patients")
    if user.is_patient:
        return reverse("diary:diary")
    return None


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The header's language switcher: Django's cookie and safe `next` redirect, and for a
    signed-in user the profile's language too (which otherwise wins over the cookie)."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if user.is_authenticated and language in dict(settings.LANGUAGES) and user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return response
