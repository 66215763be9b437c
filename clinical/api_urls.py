from __future__ import annotations

from django.urls import path

from clinical import api

# Mounted under /api/diary/ next to the diary's own routes (config/urls.py): the original API's
# prefix for everything a patient records, while the diary app never imports this one.
urlpatterns = [
    path("medications/", api.medications, name="api-medications"),
    path("doses/", api.doses, name="api-doses"),
    path("checkins/", api.checkins, name="api-checkins"),
]
