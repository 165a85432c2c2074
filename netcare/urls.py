"""URL map: pages, admin, health check (the API is added under /api/)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from treatments import views as treatment_views

urlpatterns = [
    path("healthz", treatment_views.healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("treatments.urls")),
]
