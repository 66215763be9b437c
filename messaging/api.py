"""The chat API under /api/chat/ (the original backend's routes and shapes)."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import api_view, parser_classes
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from core.api import (
    BAD_REQUEST,
    FORBIDDEN,
    NOT_FOUND,
    UNAUTHORIZED,
    BadRequest,
    error,
)
from core.parsers import JSONParser
from messaging import services
from messaging.models import Message, conversations_for
from messaging.serializers import (
    ConversationLinksSerializer,
    ConversationListSerializer,
    HistoryQuerySerializer,
    MessageSerializer,
    StartConversationSerializer,
)

PEER = OpenApiParameter(
    "peer", OpenApiTypes.STR, OpenApiParameter.PATH, description="The other person's username."
)


def _peer(request: Request, username: str, *, to_send: bool = False) -> User:
    """The other person of a conversation; otherwise a 404, 400 or 403 ({"error"}) is raised.

    Reading and deleting a conversation need only the other person; starting one (`to_send`)
    needs the right to send (an active care link, or two doctors).
    """
    # A deleted account stays readable for the people it talked with; sending is refused.
    peer = User.objects.filter(
        Q(is_active=True) | Q(deleted_at__isnull=False), username=username
    ).first()
    if peer is None:
        raise exceptions.NotFound(gettext("No user with that username."))
    if peer.pk == request.user.pk:
        raise BadRequest(gettext("You cannot chat with yourself."))
    if to_send and not services.can_chat(request.user, peer):
        raise exceptions.PermissionDenied(
            gettext(services.PEER_DELETED if peer.is_deleted else services.CANNOT_SEND)
        )
    return peer


def _messages(queryset: QuerySet[Message]) -> list[dict]:
    return [services.message_data(m) for m in queryset.with_people()]


@extend_schema(
    methods=["GET"],
    responses={200: ConversationListSerializer, 401: UNAUTHORIZED},
    summary="The people you have conversations with, most recent first",
)
@extend_schema(
    methods=["POST"],
    request=StartConversationSerializer,
    responses={
        200: ConversationLinksSerializer,
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: NOT_FOUND,
    },
    summary="Start (or find) the conversation with a user: its API and WebSocket URLs",
)
@api_view(["GET", "POST"])
# JSON only: Daphne (Twisted) answers a malformed multipart body with a bare 400 of its own
# before the app sees it, which no schema can describe.
@parser_classes([JSONParser])
def conversations(request: Request) -> Response:
    if request.method == "GET":
        peers = [row["peer_user"].username for row in conversations_for(request.user)]
        return Response({"unique_peers": peers})
    username = request.data.get("peer_username") if hasattr(request.data, "get") else None
    if not isinstance(username, str) or not username.strip():
        return error(gettext("peer_username is required."), status.HTTP_400_BAD_REQUEST)
    if "\x00" in username:  # PostgreSQL cannot even compare such text: a 500 otherwise
        return error(
            gettext("peer_username must not contain NUL characters."), status.HTTP_400_BAD_REQUEST
        )
    peer = _peer(request, username.strip(), to_send=True)
    return Response(
        {
            "chat_url": f"/api/chat/conversations/{peer.username}/",
            "ws_url": f"/ws/chat/{peer.username}/",
        }
    )


@extend_schema(
    parameters=[PEER, HistoryQuerySerializer],
    responses={
        200: MessageSerializer(many=True),
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        404: NOT_FOUND,
    },
    summary="The messages with a user, oldest first (all, or `limit` before the id `before`)",
)
@api_view(["GET"])
def conversation(request: Request, peer: str) -> Response:
    query = HistoryQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    other = _peer(request, peer)
    messages = Message.objects.between(request.user, other)
    before = query.validated_data.get("before")
    limit = query.validated_data.get("limit")
    if before is not None:
        messages = messages.filter(pk__lt=before)
    if limit is not None:
        newest = messages.order_by("-id")[:limit]
        return Response(list(reversed(_messages(newest))))
    return Response(_messages(messages.chronological()))


@extend_schema(
    parameters=[PEER],
    request=None,
    responses={
        204: OpenApiResponse(description="Every message between you two is deleted."),
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        404: NOT_FOUND,
    },
    summary="Delete the whole conversation with a user, in both directions",
)
@api_view(["DELETE"])
def delete_conversation(request: Request, peer: str) -> Response:
    other = _peer(request, peer)
    services.delete_conversation(user=request.user, peer=other)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(request: Request, rest: str = "") -> Response:
    """Any other path under /api/chat/ (e.g. a username with a slash): JSON, not an HTML 404."""
    return error(gettext("Not found."), status.HTTP_404_NOT_FOUND)
