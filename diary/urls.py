from __future__ import annotations

from django.urls import path

from diary import digest_views, views

app_name = "diary"

urlpatterns = [
    path("", views.diary, name="diary"),
    path("entries/new/", views.entry_new, name="entry-new"),
    path("entries/<int:pk>/", views.entry_detail, name="entry-detail"),
    path("entries/<int:pk>/edit/", views.entry_edit, name="entry-edit"),
    path("entries/<int:pk>/delete/", views.entry_delete, name="entry-delete"),
    path("notes/", views.notes, name="notes"),
    path("notes/new/", views.note_new, name="note-new"),
    path("notes/<int:pk>/", views.note_detail, name="note-detail"),
    path("notes/<int:pk>/edit/", views.note_edit, name="note-edit"),
    path("notes/<int:pk>/delete/", views.note_delete, name="note-delete"),
    path("export/", views.export, name="export"),
    path("patients/", views.patients, name="patients"),
    path("patients/<str:username>/", views.patient_diary, name="patient-diary"),
    path("digest/", digest_views.digest, name="digest"),
    path("patients/<str:username>/digest/", digest_views.patient_digest, name="patient-digest"),
]
