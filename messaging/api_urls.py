from __future__ import annotations

from django.urls import path, re_path

from messaging import api

urlpatterns = [
    path("conversations/", api.conversations, name="api-chat-conversations"),
    path(
        "conversations/delete/<str:peer>/",
        api.delete_conversation,
        name="api-chat-conversation-delete",
    ),
    path("conversations/<str:peer>/", api.conversation, name="api-chat-conversation"),
    re_path(r"^(?P<rest>.*)$", api.not_found),
]
