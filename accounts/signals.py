"""Model signals that keep the token cache (accounts.authentication_cache) truthful on the
paths that do not go through accounts.services: the admin deleting a token or editing a user,
a cascade, a role group changed from either side."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework.authtoken.models import Token, TokenProxy

from accounts.authentication_cache import forget_token, forget_users
from accounts.models import ApiToken, User


def token_deleted(sender: Any, instance: Token, **kwargs: Any) -> None:
    forget_token(instance.key)


def user_saved(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    if not created:
        forget_users([instance.pk])


def groups_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    if action not in ("post_add", "post_remove", "post_clear", "pre_clear"):
        return
    if not reverse:  # user.groups.add(...): `instance` is the user
        if action != "pre_clear":
            forget_users([instance.pk])
    elif action == "pre_clear":  # group.user_set.clear(): who was in it, before it empties
        forget_users(list(instance.user_set.values_list("pk", flat=True)))
    elif action != "post_clear":
        forget_users(sorted(pk_set or ()))


def connect() -> None:
    # Every class a token row is deleted through (a proxy's deletes name the proxy).
    for model in (Token, TokenProxy, ApiToken):
        post_delete.connect(
            token_deleted, sender=model, dispatch_uid=f"painmap-forget-token-{model.__name__}"
        )
    post_save.connect(user_saved, sender=User, dispatch_uid="painmap-forget-user")
    m2m_changed.connect(
        groups_changed, sender=User.groups.through, dispatch_uid="painmap-forget-groups"
    )
