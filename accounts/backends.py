"""Django's model backend, loading the signed-in user's roles with the user."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from accounts.badges import loading_page_user, with_badges
from accounts.models import User


class ModelBackend(DjangoModelBackend):
    """Every signed-in page shows the user's role and checks it (`is_doctor`): loading the
    group names in the user's own query saves a query per request."""

    def get_user(self, user_id: int) -> User | None:
        users = User._default_manager.with_roles()
        if loading_page_user.get():
            users = with_badges(users)  # a page's header counts, in the same query
        try:
            user = users.get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    async def aget_user(self, user_id: int) -> User | None:
        try:
            user = await User._default_manager.with_roles().aget(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
