from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import admin_sign_in, home
from core.health import healthz, metrics, readyz
from pwa.views import manifest, service_worker

# Swagger UI styles itself inline; its page alone may do so (scripts stay external).
api_docs = csp_override(
    {
        "default-src": [CSP.SELF],
        "script-src": [CSP.SELF],
        "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
        "img-src": [CSP.SELF, "data:"],
        "frame-ancestors": [CSP.NONE],
    }
)(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))

# A database error in a middleware layer is a 503, not a 500 (core/faults.py).
handler500 = "core.faults.server_error"

urlpatterns = [
    path("", home, name="home"),
    # At the root: a service worker controls only what is below its own URL.
    path("sw.js", service_worker, name="service-worker"),
    path("manifest.webmanifest", manifest, name="pwa-manifest"),
    path("push/", include("pwa.urls")),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    # Before the admin's own URLs: the same form under the sign-in limits, with 429 answers.
    path("admin/login/", admin_sign_in, name="admin_sign_in"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("diary/", include("diary.urls")),
    path("clinical/", include("clinical.urls")),
    path("api/auth/", include("accounts.api_urls")),
    path("api/diary/", include("clinical.api_urls")),
    path("api/diary/", include("diary.api_urls")),
    path("api/chat/", include("messaging.api_urls")),
    path("chat/", include("messaging.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
]
