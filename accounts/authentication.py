"""API token checks shared by DRF (the Authorization header) and the WebSocket (?token=)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from accounts.services import check_token

KEY_LENGTH = Token._meta.get_field("key").max_length


def plausible_key(key: str) -> bool:
    """Whether `key` could be a token at all; PostgreSQL cannot even compare text with a NUL
    (psycopg raises), so such a key must never reach a query."""
    return 0 < len(key) <= KEY_LENGTH and "\x00" not in key


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication; a key no token can have is refused before any query, and a
    token idle for longer than TOKEN_IDLE_DAYS is refused like an unknown one (and deleted)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        token = check_token(key) if plausible_key(key) else None
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
