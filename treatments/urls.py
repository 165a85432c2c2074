from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/<slug:key>/", views.modality, name="modality"),
    path("check/", views.check, name="check"),
    path("check/what-if/", views.whatif, name="whatif"),
]
