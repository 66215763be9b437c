from __future__ import annotations

from django.urls import path

from accounts import api

urlpatterns = [
    path("register/", api.register, name="api-register"),
    path("login/", api.login, name="api-login"),
    path("logout/", api.logout, name="api-logout"),
    path("profile/", api.profile, name="api-profile"),
    path("export/", api.export, name="api-export"),
    path("password/", api.password_change, name="api-password-change"),
    path("links/", api.links, name="api-links"),
]
