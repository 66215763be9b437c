from __future__ import annotations

from django.contrib import admin

from clinical.models import CheckIn, DoseTaken, Medication, Preferences


@admin.register(Medication)
class MedicationAdmin(admin.ModelAdmin):
    list_display = ["name", "patient", "usual_dose", "unit", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "patient__username"]
    raw_id_fields = ["patient"]


@admin.register(DoseTaken)
class DoseTakenAdmin(admin.ModelAdmin):
    list_display = ["medication", "taken_at", "dose", "relief"]
    raw_id_fields = ["medication", "entry"]


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ["patient", "week", "score"]
    raw_id_fields = ["patient"]


@admin.register(Preferences)
class PreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "checkin_weekday", "daily_reminder", "checkin_reminder"]
    raw_id_fields = ["user"]
