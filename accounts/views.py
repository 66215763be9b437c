from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services, throttling
from accounts.forms import ProfileForm, RegisterForm, ThrottledAuthenticationForm


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
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, "Your password was changed.")
        return redirect("profile")
    request.user.refresh_from_db()
    return _profile_page(request, ProfileForm(instance=request.user), form, status=400)


def _profile_page(
    request: HttpRequest, form: ProfileForm, password_form: PasswordChangeForm, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "password_form": password_form},
        status=status,
    )
