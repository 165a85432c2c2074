"""The one Django app of NETcare; its packages are laid out by layer, then by area."""

from django.apps import AppConfig


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = "NETcare treatments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Django's documented place for signal receivers: connected once, after every app is loaded.
        from .services.access import connect_signals

        connect_signals()
