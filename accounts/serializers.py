from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext
from rest_framework import serializers

from accounts.models import DELETED_USER, CareLink, DiaryAccess, User, email_taken
from core.api import StrictCharField, StrictEmailField
from messaging.models import Message


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
        # Stored NFKC-normalised (as the web form and createsuperuser do): "ªlice" is "alice", so
        # the uniqueness check must look at what will be stored, not at what was typed.
        value = User.normalize_username(value)
        for validator in User._meta.get_field("username").validators:
            try:
                validator(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from exc
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError(gettext("A user with that username already exists."))
        return value

    def validate_email(self, value: str) -> str:
        if email_taken(value):
            raise serializers.ValidationError(
                gettext("A user with that email address already exists.")
            )
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


# The account export ("download everything"): one JSON document, described by these
# serializers so that the OpenAPI schema and the file cannot drift apart. Every serializer
# reads `tz` (the person's zone) and `user` (the person exporting) from the context.


class ZonedDateTimeField(serializers.DateTimeField):
    """A moment in the exporting person's own time zone, ISO 8601 with its offset."""

    def to_representation(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        return value.astimezone(self.context["tz"]).isoformat(timespec="seconds")


def peer_name(person: User) -> str:
    """How the export names another person: their username (which the exporter already sees),
    or "deleted user"."""
    return DELETED_USER if person.is_deleted else person.username


class ExportPreferencesSerializer(serializers.Serializer):
    digest_emails = serializers.BooleanField(help_text="Whether the weekly digest email is on.")


class ExportProfileSerializer(serializers.Serializer):
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    time_zone = serializers.CharField(
        source="timezone", help_text="The zone chosen on the profile; empty: the site's."
    )
    role = serializers.CharField(help_text='"Patient", "Doctor" or "No role".')
    preferences = ExportPreferencesSerializer(source="*")
    date_joined = ZonedDateTimeField()
    last_login = ZonedDateTimeField(allow_null=True)


class ExportPainEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date_recorded = ZonedDateTimeField()
    last_modified = ZonedDateTimeField()
    body_part_id = serializers.IntegerField()
    body_part = serializers.CharField(source="body_part.name")
    body_part_label = serializers.CharField(source="body_part.label")
    pain_type = serializers.CharField()
    intensity = serializers.IntegerField(min_value=0, max_value=10)
    description = serializers.CharField()


class ExportNoteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    shared = serializers.BooleanField(help_text="Shared with the doctors one is linked with.")
    created_on = ZonedDateTimeField()
    last_modified = ZonedDateTimeField()


class ExportMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    direction = serializers.SerializerMethodField()
    peer = serializers.SerializerMethodField(help_text='A username, or "deleted user".')
    text = serializers.CharField()
    timestamp = ZonedDateTimeField()
    read_at = ZonedDateTimeField(allow_null=True, help_text="When the receiver read it.")

    def get_direction(self, message: Message) -> Literal["sent", "received"]:
        return "sent" if message.sender_id == self.context["user"].pk else "received"

    def get_peer(self, message: Message) -> str:
        mine = message.sender_id == self.context["user"].pk
        return peer_name(message.receiver if mine else message.sender)


class ExportCareLinkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    my_role = serializers.SerializerMethodField()
    peer = serializers.SerializerMethodField(help_text='A username, or "deleted user".')
    status = serializers.ChoiceField(choices=CareLink.Status.choices)
    created = ZonedDateTimeField()
    responded = ZonedDateTimeField(allow_null=True)
    ended = ZonedDateTimeField(allow_null=True)

    def get_my_role(self, link: CareLink) -> Literal["patient", "doctor"]:
        return "patient" if link.patient_id == self.context["user"].pk else "doctor"

    def get_peer(self, link: CareLink) -> str:
        mine = link.patient_id == self.context["user"].pk
        return peer_name(link.doctor if mine else link.patient)


class ExportReadOfMineSerializer(serializers.Serializer):
    at = ZonedDateTimeField()
    viewer = serializers.SerializerMethodField(help_text='A username, or "deleted user".')
    what = serializers.CharField()

    def get_viewer(self, read: DiaryAccess) -> str:
        return peer_name(read.viewer)


class ExportReadByMeSerializer(serializers.Serializer):
    at = ZonedDateTimeField()
    patient = serializers.SerializerMethodField(help_text='A username, or "deleted user".')
    what = serializers.CharField()

    def get_patient(self, read: DiaryAccess) -> str:
        return peer_name(read.patient)


class ExportAccessLogSerializer(serializers.Serializer):
    reads_of_my_data = ExportReadOfMineSerializer(
        many=True, help_text="Someone else (a linked doctor, an administrator) read your data."
    )
    my_reads_of_others_data = ExportReadByMeSerializer(
        many=True, help_text="You read a patient's data as their doctor."
    )


class AccountExportSerializer(serializers.Serializer):
    format = serializers.CharField(help_text='Always "painmap-account-export".')
    version = serializers.IntegerField(help_text="1; a new version only for incompatible changes.")
    exported_at = ZonedDateTimeField()
    time_zone = serializers.CharField(help_text="The zone every time in this document is in.")
    profile = ExportProfileSerializer()
    pain_entries = ExportPainEntrySerializer(many=True)
    notes = ExportNoteSerializer(many=True)
    messages = ExportMessageSerializer(many=True)
    care_links = ExportCareLinkSerializer(many=True)
    access_log = ExportAccessLogSerializer()


class AccountDeleteSerializer(serializers.Serializer):
    password = StrictCharField(
        max_length=4096, write_only=True, trim_whitespace=False, help_text="Your password."
    )


class PasswordChangeSerializer(serializers.Serializer):
    """The signed-in user's current password, and the new one (Django's password rules)."""

    old_password = StrictCharField(max_length=4096, write_only=True, trim_whitespace=False)
    new_password = StrictCharField(max_length=4096, write_only=True, trim_whitespace=False)

    WRONG_PASSWORD = "wrong_password"

    def validate_old_password(self, value: str) -> str:
        if not self.context["user"].check_password(value):
            raise serializers.ValidationError(
                gettext("Your old password was entered incorrectly."), code=self.WRONG_PASSWORD
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
