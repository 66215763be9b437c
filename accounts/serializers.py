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


class PasswordChangeSerializer(serializers.Serializer):
    """The signed-in user's current password, and the new one (Django's password rules)."""

    old_password = StrictCharField(max_length=4096, write_only=True, trim_whitespace=False)
    new_password = StrictCharField(max_length=4096, write_only=True, trim_whitespace=False)

    WRONG_PASSWORD = "wrong_password"

    def validate_old_password(self, value: str) -> str:
        if not self.context["user"].check_password(value):
            raise serializers.ValidationError(
                "Your old password was entered incorrectly.", code=self.WRONG_PASSWORD
            )
        return value

    def validate_new_password(self, value: str) -> str:
        try:
            password_validation.validate_password(value, self.context["user"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value


class TokenSerializer(serializers.Serializer):
    token = StrictCharField()
