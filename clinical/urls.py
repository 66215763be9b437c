from __future__ import annotations

from django.urls import path

from clinical import views

app_name = "clinical"

urlpatterns = [
    path("medications/", views.medication_list, name="medications"),
    path("medications/new/", views.medication_new, name="medication-new"),
    path("medications/<int:pk>/", views.medication_doses, name="medication-doses"),
    path("medications/<int:pk>/edit/", views.medication_edit, name="medication-edit"),
    path("medications/<int:pk>/active/", views.medication_active, name="medication-active"),
    path("medications/<int:pk>/delete/", views.medication_delete, name="medication-delete"),
    path("doses/<int:pk>/delete/", views.dose_delete, name="dose-delete"),
    path("doses/<int:pk>/relief/", views.dose_relief, name="dose-relief"),
    path("rescue/", views.take_rescue, name="take-rescue"),
    path("checkin/", views.checkin, name="checkin"),
    path("patients/<str:username>/brief/", views.patient_brief, name="patient-brief"),
    path("preferences/", views.preferences, name="preferences"),
]
