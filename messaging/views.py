"""The chat pages: the inbox and one conversation (session auth, htmx)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods

from accounts import access, badges
from accounts.models import User
from accounts.throttling import AttemptLimiter
from messaging import services
from messaging.forms import StartConversationForm
from messaging.models import Message, conversations_for

PAGE_SIZE = 50


def _peer(request: HttpRequest, username: str) -> User:
    """The other person: anyone but oneself. Whether one may *send* is decided separately, so a
    conversation stays readable (and deletable) after a care link ends."""
    # A deleted account stays readable (read-only) for the people it talked with.
    peer = (
        User.objects.with_roles()  # who may chat with whom depends on roles: no second query
        .annotate(**access.relation_to(request.user))  # and on links: nor a third
        .filter(Q(is_active=True) | Q(deleted_at__isnull=False), username=username)
        .first()
    )
    if peer is None or peer.pk == request.user.pk:
        raise Http404(gettext("No such conversation."))
    return peer


def _page(user: User, peer: User, before: int | None = None) -> tuple[list[Message], bool]:
    """Up to PAGE_SIZE messages (before the id `before`), oldest first, and whether older exist."""
    messages_ = Message.objects.between(user, peer)
    if before is not None:
        messages_ = messages_.filter(pk__lt=before)
    rows = list(messages_.with_people().order_by("-id")[: PAGE_SIZE + 1])
    has_older = len(rows) > PAGE_SIZE
    return list(reversed(rows[:PAGE_SIZE])), has_older


@require_http_methods(["GET", "POST"])
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    form = StartConversationForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            return redirect("chat", username=form.cleaned_data["username"].username)
        status = 400
    else:
        status = 200
    return render(
        request,
        "messaging/inbox.html",
        {"form": form, "conversations": conversations_for(request.user), "inbox_live": True},
        status=status,
    )


def form_sends() -> AttemptLimiter:
    """Messages sent through the page's form (no JavaScript), per user: the socket's burst per
    minute. The socket keeps its own per-socket token bucket (messaging.consumers.RateLimit)."""
    return AttemptLimiter("chat-form", settings.CHAT_RATE_BURST, 60)


def _send_from_form(request: HttpRequest, peer: User) -> tuple[Message | None, str, int]:
    """Store the posted message through the one write path; (message, error, status)."""
    if not access.can_chat(request.user, peer, active_link=peer.active_link):
        # The page's "Sending is closed" box says why.
        return None, gettext("Your message was not sent."), 403
    if form_sends().hit(str(request.user.pk)) is not None:
        return None, gettext("Too many messages: slow down a little."), 429
    try:
        message = services.send_message(
            sender=request.user, receiver=peer, text=request.POST.get("message", "")
        )
    except services.MessageError as exc:
        return None, str(exc), 400
    return message, "", 200


@require_http_methods(["GET", "POST"])
@login_required
def chat(request: HttpRequest, username: str) -> HttpResponse:
    """The conversation. Script sends over the socket; without it the form POSTs here and is
    redirected back (post/redirect/get), so the text never lands in a URL or the history."""
    peer = _peer(request, username)
    error, status, draft = "", 200, ""
    if request.method == "POST":
        message, error, status = _send_from_form(request, peer)
        if message is not None:
            # The fragment scrolls the conversation's box to the new message without script.
            return redirect(f"{reverse('chat', args=[peer.username])}#message-{message.pk}")
        draft = request.POST.get("message", "")
    # The header's unread badge, loaded with the user, less what the page marks read now.
    badges.marked_read(request, len(services.mark_read(reader=request.user, peer=peer)))
    messages_, has_older = _page(request.user, peer)
    return render(
        request,
        "messaging/chat.html",
        {
            "peer": peer,
            "error": error,
            # A refused message stays in the box, to be fixed and sent again.
            "draft": draft,
            # Any signed-in user may open anyone's chat page: the real name only for people
            # who know each other (accounts.access.name_visible).
            "peer_name": access.shown_name(request.user, peer, known=peer.known),
            "viewer": request.user,
            # Not "messages": base.html shows that name as the flash alerts (see chat.html).
            "chat_messages": messages_,
            "has_older": has_older,
            "can_send": access.can_chat(request.user, peer, active_link=peer.active_link),
            "cannot_send": gettext(
                services.PEER_DELETED if peer.is_deleted else services.CANNOT_SEND
            ),
        },
        status=status,
    )


@require_GET
@login_required
def older(request: HttpRequest, username: str) -> HttpResponse:
    peer = _peer(request, username)
    try:
        before = int(request.GET["before"])
    except (KeyError, ValueError):
        return HttpResponse(gettext("A message id is needed in ?before=."), status=400)
    messages_, has_older = _page(request.user, peer, before=before)
    return render(
        request,
        "messaging/chat.html#older-messages",
        {"peer": peer, "viewer": request.user, "messages": messages_, "has_older": has_older},
    )


@require_http_methods(["GET", "POST"])
@login_required
def delete(request: HttpRequest, username: str) -> HttpResponse:
    peer = _peer(request, username)
    if request.method == "POST":
        count = services.delete_conversation(user=request.user, peer=peer)
        messages.success(
            request,
            ngettext(
                "The conversation with %(username)s was deleted (%(count)s message).",
                "The conversation with %(username)s was deleted (%(count)s messages).",
                count,
            )
            % {"username": peer.username, "count": count},
        )
        return redirect("chat-inbox")
    count = Message.objects.between(request.user, peer).count()
    return render(request, "messaging/delete.html", {"peer": peer, "count": count})
