"""API tokens: one per client, stored as a hash, with an expiry and a revocation time.

The secret is shown once, when it is issued; the database keeps its SHA-256 and a short prefix that
names it in lists (the admin, the audit trail). A plain, unsalted hash is enough because the secret is
32 random bytes: there is nothing to guess, and a stolen table cannot be turned back into secrets.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

PREFIX_LENGTH = 8


def token_digest(secret: str) -> str:
    """The SHA-256 (hex) under which a token's secret is stored and cached."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self, now: datetime | None = None) -> ApiTokenQuerySet:
        """Neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class ApiToken(models.Model):
    """One client's credential for the API (`Authorization: Token <secret>`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    client = models.CharField(max_length=100, help_text="The client's name, as given when it was issued.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, help_text="The secret's first characters.")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the secret.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(
        null=True, blank=True, help_text="Updated when the token is checked against the database."
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.client})"

    @classmethod
    def new(cls, user: models.Model, client: str, lifetime: timedelta) -> tuple[ApiToken, str]:
        """A saved token and its secret (the only time the secret exists outside the client)."""
        secret = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            client=client,
            prefix=secret[:PREFIX_LENGTH],
            digest=token_digest(secret),
            expires_at=timezone.now() + lifetime,
        )
        return token, secret

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
