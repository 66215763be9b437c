from __future__ import annotations

from django.urls import path

from pwa import views

urlpatterns = [
    path("subscribe/", views.push_subscribe, name="push-subscribe"),
    path("unsubscribe/", views.push_unsubscribe, name="push-unsubscribe"),
    path("test/", views.push_test, name="push-test"),
    path("offline/", views.offline_page, name="pwa-offline"),
]
