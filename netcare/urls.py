"""URL map: pages, the REST API (/api/v1/ deprecated, /api/v2/), their schemas and docs, the admin,
the health checks and the CDS Hooks service."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from netcare.middleware import readyz
from treatments.api import documents as api_documents
from treatments.api import exceptions as api_exceptions
from treatments.api import urls as api_urls
from treatments.cds import views as cds_views
from treatments.cds.outcomes import is_cds_path, operation_outcome
from treatments.views import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # v1: deprecated, served as published (its document is the saved file); v2: contract 1.2.
    path("api/v1/", include("treatments.api.urls")),
    path("api/schema/", api_documents.v1_document, name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v2/schema/", SpectacularAPIView.as_view(), name="schema-v2"),
    path("api/v2/docs/", SpectacularSwaggerView.as_view(url_name="schema-v2"), name="api-docs-v2"),
    path("api/v2/", include((api_urls.patterns("v2"), "api"), namespace="api-v2")),
    # CDS Hooks 2.0 (docs/cds-hooks.md): signed JWTs from registered EHRs, no login.
    path("cds-hooks/", include("treatments.cds.urls")),
    path("", include("treatments.views.urls")),
]


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_exceptions.api_not_found(request)
    if is_cds_path(request.path):
        return cds_views.not_found(request)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_exceptions.api_server_error(request)
    if is_cds_path(request.path):
        return operation_outcome(500, "Internal error; it has been logged.")
    return defaults.server_error(request)
