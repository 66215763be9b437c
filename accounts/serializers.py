from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from accounts.models import CareLink, User, email_taken
from config.api import StrictCharField, StrictEmailField


class UserSerializer(serializers.ModelSerializer):
    groups = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "groups"]
        read_only_fields = fields


# Its own serializer so that the user inside the register and login answers keeps the original
# shape: `email_verified` is an addition to the profile only.
class ProfileSerializer(UserSerializer):
    """The signed-in user, and whether their email address is verified."""

    email_verified = serializers.BooleanField(
        read_only=True,
        required=False,
        help_text="Whether the owner proved the address by following the emailed link. "
        "Painmap sends no email (weekly digest) to an unverified address.",
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "email_verified"]
        read_only_fields = fields


class RegisterSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150)
    email = StrictEmailField(max_length=254)
    password = StrictCharField(max_length=4096, write_only=True, trim_whitespace=False)

    def validate_username(self, value: str) -> str:
        for validator in User._meta.get_field("username").validators:
            try:
                validator(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from exc
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("A user with that username already exists.")
        return value

    def validate_email(self, value: str) -> str:
        if email_taken(value):
            raise serializers.ValidationError("A user with that email address already exists.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        candidate = User(username=attrs["username"], email=attrs["email"])
        try:
            password_validation.validate_password(attrs["password"], candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": exc.messages}) from exc
        return attrs


class LoginSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=4096, write_only=True, trim_whitespace=False)


class AuthResultSerializer(serializers.Serializer):
    token = StrictCharField()
    user = UserSerializer()


class CareLinkSerializer(serializers.ModelSerializer):
    patient = serializers.SlugRelatedField(slug_field="username", read_only=True)
    doctor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CareLink
        fields = ["id", "patient", "doctor", "status", "created", "responded", "ended"]
        read_only_fields = fields


class LinkRequestSerializer(serializers.Serializer):
    doctor = StrictCharField(max_length=150)


class LinkChangeSerializer(serializers.Serializer):
    link_pk = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    status = serializers.ChoiceField(choices=CareLink.Status.choices)
