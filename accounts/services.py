"""Writes to accounts: registration, roles, API tokens."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import DOCTORS, PATIENTS, User

ROLE_GROUPS = {"doctor": DOCTORS, "patient": PATIENTS}


def register_user(*, username: str, email: str, password: str) -> User:
    """Create a user (who joins Patients). Inputs are validated by the caller's form/serializer."""
    return User.objects.create_user(username=username, email=email.strip(), password=password)


@transaction.atomic
def set_role(*, users: list[User], role: str) -> int:
    """Make each user a doctor or a patient: join that group, leave the other. Returns the count."""
    join = Group.objects.get_or_create(name=ROLE_GROUPS[role])[0]
    leave = Group.objects.get_or_create(name=PATIENTS if role == "doctor" else DOCTORS)[0]
    for user in users:
        user.groups.add(join)
        user.groups.remove(leave)
        user.__dict__.pop("group_names", None)
    return len(users)


def issue_token(*, user: User) -> Token:
    """The user's API token: the same one on every sign-in until they sign out."""
    return Token.objects.get_or_create(user=user)[0]


def revoke_token(*, user: User) -> None:
    Token.objects.filter(user=user).delete()
