"""API token checks shared by DRF (the Authorization header) and the WebSocket (?token=)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

KEY_LENGTH = Token._meta.get_field("key").max_length


def plausible_key(key: str) -> bool:
    """Whether `key` could be a token at all; PostgreSQL cannot even compare text with a NUL
    (psycopg raises), so such a key must never reach a query."""
    return 0 < len(key) <= KEY_LENGTH and "\x00" not in key


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication; a key no token can have is refused before any query."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        if not plausible_key(key):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(key)
