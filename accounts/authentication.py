"""API token checks shared by DRF (the Authorization header) and the WebSocket (?token=)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from accounts.authentication_cache import KEY_LENGTH, plausible_key, resolve_token

__all__ = ["KEY_LENGTH", "TokenAuthentication", "plausible_key"]


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication through the one token resolution (at most one query, none
    while cached: accounts.authentication_cache); a key no token can have is refused before
    any query, and a token idle for longer than TOKEN_IDLE_DAYS is refused like an unknown one
    (and deleted)."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        found = resolve_token(key)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user, token = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, token
