from __future__ import annotations

from django.urls import path, register_converter

from messaging import views


class UsernameConverter:
    """Django's usernames: letters, digits and . @ + - _."""

    regex = r"[\w.@+-]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UsernameConverter, "username")

urlpatterns = [
    path("", views.inbox, name="chat-inbox"),
    path("<username:username>/", views.chat, name="chat"),
    path("<username:username>/older/", views.older, name="chat-older"),
    path("<username:username>/delete/", views.delete, name="chat-delete"),
]
