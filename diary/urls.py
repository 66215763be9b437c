from __future__ import annotations

from django.urls import path

from diary.views import digest, entries, exports, notes, patients

app_name = "diary"

urlpatterns = [
    path("", entries.diary, name="diary"),
    path("entries/new/", entries.entry_new, name="entry-new"),
    path("entries/<int:pk>/", entries.entry_detail, name="entry-detail"),
    path("entries/<int:pk>/edit/", entries.entry_edit, name="entry-edit"),
    path("entries/<int:pk>/delete/", entries.entry_delete, name="entry-delete"),
    path("notes/", notes.notes, name="notes"),
    path("notes/new/", notes.note_new, name="note-new"),
    path("notes/<int:pk>/", notes.note_detail, name="note-detail"),
    path("notes/<int:pk>/edit/", notes.note_edit, name="note-edit"),
    path("notes/<int:pk>/delete/", notes.note_delete, name="note-delete"),
    path("export/", exports.export, name="export"),
    path("patients/", patients.patients, name="patients"),
    path("patients/<str:username>/", patients.patient_diary, name="patient-diary"),
    path("digest/", digest.digest, name="digest"),
    path("patients/<str:username>/digest/", digest.patient_digest, name="patient-digest"),
]
