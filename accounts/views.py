from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services, throttling
from accounts.forms import ProfileForm, RegisterForm, ThrottledAuthenticationForm
from accounts.models import DOCTORS, CareLink, DiaryAccess, User


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "accounts/welcome.html")
    return render(request, "accounts/home.html")


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = RegisterForm(request.POST or None)
    status = 200
    if request.method == "POST":
        limiter = throttling.registrations()
        address = throttling.client_address(request)
        if (wait := limiter.retry_after(address)) is not None:
            form.add_error(None, throttling.too_many_message(wait))
            status = 429
        elif form.is_valid():
            limiter.record(address)
            user = services.register_user(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to Painmap, {user.username}!")
            return redirect("home")
        else:
            status = 400
    return render(request, "accounts/register.html", {"form": form}, status=status)


class SignInView(auth_views.LoginView):
    form_class = ThrottledAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form: ThrottledAuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 429 if form.throttled_for else 400
        return response


sign_in = SignInView.as_view()


@require_http_methods(["GET", "POST"])
@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Your profile was saved.")
            return redirect("profile")
        return _profile_page(request, form, PasswordChangeForm(request.user), status=400)
    return _profile_page(request, form, PasswordChangeForm(request.user))


@require_POST
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, request.POST)
    if form.is_valid():
        with transaction.atomic():
            user = form.save()
            services.end_credentials(user=user, reason="password-changed")
        update_session_auth_hash(request, user)  # this browser stays signed in (a new key)
        messages.success(
            request,
            "Your password was changed. You were signed out everywhere else, "
            "and apps using the API must sign in again.",
        )
        return redirect("profile")
    request.user.refresh_from_db()
    return _profile_page(request, ProfileForm(instance=request.user), form, status=400)


def _profile_page(
    request: HttpRequest, form: ProfileForm, password_form: PasswordChangeForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "password_form": password_form,
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
    return render(
        request,
        "accounts/doctors.html",
        {
            "query": query,
            "rows": [(doctor, open_links.get(doctor.pk)) for doctor in doctors],
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
        messages.success(request, f"Request sent to {doctor.display_name()}.")
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
    "active": "Request accepted: you can now read this patient's diary and chat.",
    "declined": "Request declined.",
    "ended": "The link has ended.",
}


@require_GET
@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    """ "Who viewed my diary": every read of the user's diary data by someone else."""
    reads = DiaryAccess.objects.filter(patient=request.user).select_related("viewer")[:200]
    return render(request, "accounts/access_log.html", {"reads": reads})


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
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every other session, the API token and every socket; this browser stays signed in.
    GET asks for confirmation; POST does it."""
    if request.method == "GET":
        return render(request, "accounts/sign_out_everywhere.html")
    services.end_credentials(user=request.user, reason="signed-out-everywhere")
    update_session_auth_hash(request, request.user)
    messages.success(
        request,
        "You were signed out on every other browser and app. You are still signed in here.",
    )
    return redirect("profile")
