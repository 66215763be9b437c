from __future__ import annotations

from django.urls import path

from accounts import views

urlpatterns = [
    path("register/", views.register, name="register"),
    path("login/", views.sign_in, name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("sign-out-everywhere/", views.sign_out_everywhere, name="sign_out_everywhere"),
    path("profile/", views.profile, name="profile"),
    path("language/", views.set_language, name="set_language"),
    path("password/", views.password_change, name="password_change"),
    path("export/", views.account_export, name="account_export"),
    path("delete/", views.account_delete, name="account_delete"),
    path("doctors/", views.doctor_directory, name="doctor_directory"),
    path("doctors/<str:username>/request/", views.link_request, name="link_request"),
    path("care/", views.care_team, name="care_team"),
    path("access-log/", views.access_log, name="access_log"),
    path(
        "care/<int:pk>/<str:status>/",
        views.link_change,
        name="link_change",
    ),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password-reset/complete/",
        views.password_reset_complete,
        name="password_reset_complete",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("verify-email/resend/", views.resend_verification, name="resend_verification"),
    path("verify-email/<str:token>/", views.verify_email, name="verify_email"),
]
