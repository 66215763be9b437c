"""“Download everything”: a person's whole account as one JSON document.

The diary's exports (diary/exports.py) are for other programs (spreadsheets, health records)
and cover the diary only; this one is for the person: everything Painmap holds about them, in
their own time zone. Its shape is accounts.serializers.AccountExportSerializer (also the
OpenAPI schema of GET /api/auth/export/); the README describes it.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control

from accounts.models import CareLink, DiaryAccess, User
from accounts.serializers import AccountExportSerializer
from diary.models import Note, PainEntry
from messaging.models import Message

EXPORT_FORMAT = "painmap-account-export"
EXPORT_VERSION = 1


def account_export(user: User) -> dict[str, Any]:
    """Everything of `user`, oldest first in every list. A fixed number of queries (one per
    kind of row) however much there is; nothing of anyone else but the usernames the person
    already sees next to a message, a link or a read."""
    tz = user.tzinfo
    document = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": timezone.now(),
        "time_zone": str(tz),
        "profile": user,
        "pain_entries": PainEntry.objects.for_user(user)
        .select_related("body_part")
        .order_by("date_recorded", "id"),
        "notes": Note.objects.filter(owner=user).order_by("created_on", "id"),
        "messages": Message.objects.involving(user).with_people().order_by("id"),
        "care_links": CareLink.objects.involving(user)
        .select_related("patient", "doctor")
        .order_by("created", "id"),
        "access_log": {
            "reads_of_my_data": DiaryAccess.objects.filter(patient=user)
            .select_related("viewer")
            .order_by("at", "id"),
            "my_reads_of_others_data": DiaryAccess.objects.filter(viewer=user)
            .select_related("patient")
            .order_by("at", "id"),
        },
    }
    return AccountExportSerializer(document, context={"tz": tz, "user": user}).data


def export_filename(user: User) -> str:
    today = timezone.now().astimezone(user.tzinfo).date()
    return f"painmap-{user.username}-account-{today.isoformat()}.json"


def account_export_response(user: User) -> HttpResponse:
    """The download, for the page and the API alike."""
    body = json.dumps(account_export(user), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(user)}"'
    patch_cache_control(response, no_store=True, private=True)
    return response
