"""The token API under /api/auth/ (the original backend's routes and shapes)."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import exports, services, throttling
from accounts.models import CareLink, User
from accounts.serializers import (
    AccountDeleteSerializer,
    AccountExportSerializer,
    AuthResultSerializer,
    CareLinkSerializer,
    LinkChangeSerializer,
    LinkRequestSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    ProfileSerializer,
    RegisterSerializer,
    TokenSerializer,
)
from core.api import (
    BAD_REQUEST,
    CONFLICT,
    FORBIDDEN,
    NOT_FOUND,
    UNAUTHORIZED,
    ErrorSerializer,
    error,
)

THROTTLED = OpenApiResponse(ErrorSerializer, description="Too many attempts; see Retry-After.")
LINK_COOLDOWN = OpenApiResponse(
    ErrorSerializer,
    description="The doctor declined this patient recently; see Retry-After for when to ask again.",
)


def _throttled(seconds: int) -> Response:
    return error(
        throttling.too_many_message(seconds),
        status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(seconds)},
    )


def _auth_result(user, http_status: int) -> Response:
    token = services.issue_token(user=user)
    return Response(
        AuthResultSerializer({"token": token.key, "user": user}).data, status=http_status
    )


@extend_schema(
    request=RegisterSerializer,
    responses={
        201: AuthResultSerializer,
        400: BAD_REQUEST,
        429: THROTTLED,
    },
    auth=[],
    summary="Create an account (joins Patients) and get its token",
)
@api_view(["POST"])
@authentication_classes([])  # a stale token header must not stop anyone signing in
@permission_classes([AllowAny])
def register(request: Request) -> Response:
    limiter = throttling.registrations()
    address = throttling.client_address(request)
    if (wait := limiter.retry_after(address)) is not None:
        return _throttled(wait)
    serializer = RegisterSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    if (wait := limiter.hit(address)) is not None:  # counted atomically before creating
        return _throttled(wait)
    try:
        # The language the client asked in (Accept-Language), for the emails that follow; none
        # asked, none kept (a page later follows the browser, an email is in English).
        asked = translation.get_language() if request.headers.get("Accept-Language") else ""
        user = services.register_user(**serializer.validated_data, language=asked)
    except services.UsernameTaken as exc:
        raise ValidationError({"username": [str(exc)]}) from exc
    throttling.remember_registration(request._request, user.username)
    # The account works at once; the address is proven by the link (sent to the host asked).
    services.send_verification_email(user=user, site=f"{request.scheme}://{request.get_host()}")
    return _auth_result(user, status.HTTP_201_CREATED)


@extend_schema(
    request=LoginSerializer,
    responses={200: AuthResultSerializer, 400: BAD_REQUEST, 429: THROTTLED},
    auth=[],
    summary="Sign in and get the account's token",
)
@api_view(["POST"])
@authentication_classes([])  # a stale token header must not stop anyone signing in
@permission_classes([AllowAny])
def login(request: Request) -> Response:
    serializer = LoginSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    username = serializer.validated_data["username"]
    attempt = throttling.begin_sign_in(request._request, username)
    if attempt.retry_after is not None:
        return _throttled(attempt.retry_after)
    user = authenticate(
        request._request, username=username, password=serializer.validated_data["password"]
    )
    if user is None:  # the attempt stays counted
        return error(gettext("Invalid credentials"), status.HTTP_400_BAD_REQUEST)
    attempt.succeeded()
    return _auth_result(user, status.HTTP_200_OK)


@extend_schema(
    request=None,
    responses={
        204: OpenApiResponse(
            description="Signed out; the token is deleted and the sockets opened with it close "
            "(code 4401)."
        ),
        401: UNAUTHORIZED,
    },
    summary="Sign out: delete the token",
)
@api_view(["POST"])
def logout(request: Request) -> Response:
    services.sign_out(user=request.user)  # the token, and the sockets opened with it
    return Response(status=status.HTTP_204_NO_CONTENT)


class _DeleteWithBodySchema(AutoSchema):
    """drf-spectacular documents a request body only for POST, PUT and PATCH; DELETE
    /api/auth/profile/ takes the password that confirms it in its body."""

    def _get_request_body(self, direction: str = "request") -> dict | None:
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        schema, required = self._get_request_for_media_type(
            self.get_request_serializer(), direction
        )
        if schema is None:
            return None
        return {"content": {"application/json": {"schema": schema}}, "required": required}


def _schema_class(schema_class: type[AutoSchema]):
    """Give an @api_view the schema class that its @extend_schema decorators extend."""

    def decorate(view):
        view.cls.kwargs = {"schema": schema_class}
        return view

    return decorate


@extend_schema(
    methods=["GET"],
    responses={200: ProfileSerializer, 401: UNAUTHORIZED},
    summary="The signed-in user",
)
@extend_schema(
    methods=["DELETE"],
    request=AccountDeleteSerializer,
    responses={
        204: OpenApiResponse(
            description="The account is deleted: diary, notes, sent messages, the access log "
            "of your diary, token and sessions are gone; open care links end. Messages others "
            'sent you stay theirs, shown with "deleted user".'
        ),
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        429: THROTTLED,
    },
    summary="Delete your account (confirm with your password); cannot be undone",
)
@_schema_class(_DeleteWithBodySchema)
@api_view(["GET", "DELETE"])
def profile(request: Request) -> Response:
    if request.method == "DELETE":
        return _delete_account(request)
    return Response(ProfileSerializer(request.user).data)


def _delete_account(request: Request) -> Response:
    serializer = AccountDeleteSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        services.confirm_password(user=request.user, password=serializer.validated_data["password"])
    except services.PasswordRefused as exc:
        if exc.retry_after is not None:
            return _throttled(exc.retry_after)
        raise ValidationError({"password": [exc.message]}) from exc
    services.delete_account(user=request.user)
    return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    responses={
        (200, "application/json"): OpenApiResponse(
            AccountExportSerializer,
            description="A file (Content-Disposition: attachment) with everything of yours; "
            "every time is in your time zone, ISO 8601 with its offset.",
        ),
        401: UNAUTHORIZED,
    },
    summary="Download everything: your profile, diary, notes, messages, links and access log",
)
@api_view(["GET"])
def export(request: Request) -> HttpResponse:
    return exports.account_export_response(request.user)


@extend_schema(
    methods=["GET"],
    responses={200: CareLinkSerializer(many=True), 401: UNAUTHORIZED},
    summary="Your care links (as patient or as doctor), newest first",
)
@extend_schema(
    methods=["POST"],
    request=LinkRequestSerializer,
    responses={
        201: CareLinkSerializer,
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: NOT_FOUND,
        429: LINK_COOLDOWN,
    },
    parameters=[
        OpenApiParameter(
            "Retry-After",
            int,
            OpenApiParameter.HEADER,
            response=[429],
            description="Seconds until the patient may ask this doctor again.",
        )
    ],
    summary="A patient asks a doctor for a link (pending until the doctor answers)",
    description="A doctor who declined the patient can be asked again only "
    "LINK_REQUEST_COOLDOWN_DAYS (default 7) days after declining: until then a 429 with "
    "Retry-After, and the error says from when.",
)
@extend_schema(
    methods=["PATCH"],
    request=LinkChangeSerializer,
    responses={
        200: CareLinkSerializer,
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: NOT_FOUND,
        409: CONFLICT,
    },
    summary="Answer or end a link (doctor: pending -> active | declined; either: active -> ended)",
)
@api_view(["GET", "POST", "PATCH"])
def links(request: Request) -> Response:
    user = request.user
    if request.method == "GET":
        mine = CareLink.objects.involving(user).select_related("patient", "doctor")
        return Response(CareLinkSerializer(mine, many=True).data)
    try:
        if request.method == "POST":
            serializer = LinkRequestSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            doctor = User.objects.filter(username=serializer.validated_data["doctor"]).first()
            if doctor is None:
                return error(gettext("No such doctor"), status.HTTP_404_NOT_FOUND)
            link = services.request_link(patient=user, doctor=doctor)
            return Response(CareLinkSerializer(link).data, status=status.HTTP_201_CREATED)
        serializer = LinkChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = CareLink.objects.involving(user).filter(pk=serializer.validated_data["link_pk"])
        link = link.select_related("patient", "doctor").first()
        if link is None:
            return error(gettext("Link not found"), status.HTTP_404_NOT_FOUND)
        link = services.change_link(link=link, by=user, status=serializer.validated_data["status"])
        return Response(CareLinkSerializer(link).data)
    except services.LinkError as exc:
        retry_after = getattr(exc, "retry_after", None)  # a LinkCooldownError
        headers = {"Retry-After": str(retry_after)} if retry_after else None
        return error(exc.message, exc.status, headers=headers)


@extend_schema(
    request=PasswordChangeSerializer,
    responses={
        200: TokenSerializer,
        400: BAD_REQUEST,
        401: UNAUTHORIZED,
        429: THROTTLED,
    },
    summary="Change the password: every session, socket and the old token end; "
    "returns the new token",
)
@api_view(["POST"])
def password_change(request: Request) -> Response:
    user = request.user
    limiter = throttling.old_password_checks()
    key = str(user.pk)
    # Reserved atomically before the old password is checked, as a sign-in is.
    if (wait := limiter.hit(key)) is not None:
        return _throttled(wait)
    serializer = PasswordChangeSerializer(data=request.data, context={"user": user})
    if not serializer.is_valid():
        old_errors = serializer.errors.get("old_password") or []
        if not any(e.code == PasswordChangeSerializer.WRONG_PASSWORD for e in old_errors):
            limiter.refund(key)  # only wrong old passwords count
        return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
    limiter.reset(key)
    token = services.change_password(
        user=user, new_password=serializer.validated_data["new_password"]
    )
    return Response(TokenSerializer({"token": token.key}).data)
