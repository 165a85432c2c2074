"""CDS Hooks paths, fixed by the specification: {base}/cds-services and {base}/cds-services/{id}
(netcare/urls.py mounts them at /cds-hooks/, the path of CDS_HOOKS_BASE_URL)."""

from django.urls import path

from . import hooks, views

urlpatterns = [
    path("cds-services", views.discovery, name="cds_discovery"),
    path(f"cds-services/{hooks.SERVICE_ID}", views.service, name="cds_service"),
    path(f"cds-services/{hooks.SERVICE_ID}/feedback", views.feedback, name="cds_feedback"),
]
