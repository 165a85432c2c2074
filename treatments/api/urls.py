from django.urls import path, re_path

from . import views
from .exceptions import api_not_found

app_name = "api"

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("eligibility/", views.EligibilityView.as_view(), name="eligibility"),
    path("eligibility/batch/", views.EligibilityBatchView.as_view(), name="eligibility-batch"),
    path("modalities/", views.ModalityListView.as_view(), name="modality-list"),
    path("modalities/<str:key>/", views.ModalityDetailView.as_view(), name="modality-detail"),
    path("rulesets/current/", views.CurrentRuleSetView.as_view(), name="ruleset-current"),
    # Anything else under /api/v1/ answers in the API's error shape, whatever DEBUG says.
    re_path(r"^.*$", api_not_found),
]
