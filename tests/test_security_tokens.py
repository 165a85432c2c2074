"""API tokens (security review F5, F10) and the audit of who may do what.

Before: one clear-text token per user (DRF authtoken), listed in the admin, never expiring, surviving
a password change, the same token for every client, no way to revoke one's own; role changes and
logins left no audit event. Now: every POST /auth/token/ issues a new token whose secret is stored
only as a SHA-256; it expires, is revoked by a password change, a deactivation, the client itself
(DELETE /api/v2/auth/token/) or an administrator, and each of those is an audit event. Tested over
HTTP with Django's test client, against the real database and cache.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD
from treatments.models import ApiToken, AuditEvent, token_digest
from treatments.services import tokens

pytestmark = pytest.mark.django_db

V1_TOKEN = "/api/v1/auth/token/"
V2_TOKEN = "/api/v2/auth/token/"
CATALOGUE = "/api/v2/rulesets/current/"


@pytest.fixture(autouse=True)
def _fresh_cache(settings: Any) -> Iterator[None]:
    settings.NETCARE_TOKEN_CACHE_SECONDS = 30  # the production path: checked tokens are cached
    cache.clear()
    yield
    cache.clear()


def issue(username: str, password: str = PASSWORD, path: str = V2_TOKEN, **body: Any) -> Any:
    return Client().post(
        path, {"username": username, "password": password, **body}, content_type="application/json"
    )


def call(secret: str, path: str = CATALOGUE, method: str = "GET") -> Any:
    return Client().generic(method, path, HTTP_AUTHORIZATION=f"Token {secret}")


def secret_of(response: Any) -> str:
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


# --- storage and issue ------------------------------------------------------------------------------


def test_only_a_hash_of_the_secret_is_stored_and_each_request_issues_a_new_token(
    clinician: User, published: Any
) -> None:
    first = secret_of(issue("dr_hughes", client="ward laptop"))
    second = secret_of(issue("dr_hughes"))

    assert first != second
    stored = list(ApiToken.objects.filter(user=clinician).order_by("id"))
    assert [token.client for token in stored] == ["ward laptop", "API client"]
    assert stored[0].digest == hashlib.sha256(first.encode()).hexdigest()
    assert stored[0].prefix == first[:8]
    assert all(first not in str(value) for value in ApiToken.objects.values_list())
    assert call(first).status_code == 200 and call(second).status_code == 200


def test_v2_names_the_client_prefix_and_expiry_and_v1_keeps_its_published_shape(
    clinician: User, published: Any, settings: Any
) -> None:
    settings.NETCARE_API_TOKEN_DAYS = 30
    v2 = issue("dr_hughes", client="  MDT board app ").json()
    v1 = issue("dr_hughes", path=V1_TOKEN).json()

    assert set(v2) == {"token", "client", "prefix", "expires_at"}
    assert v2["client"] == "MDT board app" and v2["prefix"] == v2["token"][:8]
    expires = ApiToken.objects.get(prefix=v2["prefix"]).expires_at
    assert timedelta(days=29) < expires - timezone.now() <= timedelta(days=30)
    assert set(v1) == {"token"}


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        (V2_TOKEN, {"client": "bad\x00name"}, ["client"]),
        (V2_TOKEN, {"client": "   "}, ["client"]),
        (V2_TOKEN, {"client": "x" * 101}, ["client"]),
        (V1_TOKEN, {"client": "v1 has no client field"}, ["client"]),
    ],
)
def test_a_bad_client_name_is_a_400_naming_the_field(
    clinician: User, published: Any, path: str, body: dict[str, Any], loc: list[str]
) -> None:
    response = issue("dr_hughes", path=path, **body)

    assert response.status_code == 400
    assert [error["loc"] for error in response.json()["errors"]] == [loc]
    assert not ApiToken.objects.exists()


# --- expiry and revocation ----------------------------------------------------------------------------


def test_an_expired_token_is_refused_even_while_cached(clinician: User, published: Any) -> None:
    secret = secret_of(issue("dr_hughes"))
    assert call(secret).status_code == 200  # now cached
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    cache.clear()

    refused = call(secret)

    assert refused.status_code == 401 and refused["WWW-Authenticate"] == "Token"
    assert "expired or revoked" in refused.json()["detail"]


def test_a_password_change_revokes_every_token_of_the_user_at_once(clinician: User, published: Any) -> None:
    secrets = [secret_of(issue("dr_hughes")) for _ in range(2)]
    assert all(call(secret).status_code == 200 for secret in secrets)  # cached

    clinician.set_password("a-new-long-passphrase")
    clinician.save()

    assert [call(secret).status_code for secret in secrets] == [401, 401]
    assert ApiToken.objects.usable().count() == 0
    reasons = AuditEvent.objects.filter(action="token.revoke").values_list("payload__reason", flat=True)
    assert list(reasons) == [tokens.PASSWORD_CHANGED] * 2


def test_deactivating_a_user_revokes_their_tokens(clinician: User, published: Any) -> None:
    secret = secret_of(issue("dr_hughes"))
    assert call(secret).status_code == 200

    clinician.is_active = False
    clinician.save()

    assert call(secret).status_code == 401
    clinician.is_active = True
    clinician.save()
    assert call(secret).status_code == 401, "reactivation does not bring a revoked token back"


def test_a_client_revokes_the_token_it_uses_and_only_that_one(clinician: User, published: Any) -> None:
    kept, dropped = secret_of(issue("dr_hughes")), secret_of(issue("dr_hughes"))
    assert call(dropped).status_code == 200  # cached

    revoked = call(dropped, V2_TOKEN, "DELETE")

    assert revoked.status_code == 204
    assert call(dropped).status_code == 401
    assert call(dropped, V2_TOKEN, "DELETE").status_code == 401
    assert call(kept).status_code == 200
    event = AuditEvent.objects.get(action="token.revoke")
    assert event.actor_name == "dr_hughes" and event.payload["reason"] == tokens.REVOKED_BY_CLIENT
    assert event.payload["prefix"] == dropped[:8] and dropped not in str(event.payload)


def test_revoking_needs_a_token_and_v1_has_no_delete(clinician: User, published: Any) -> None:
    session = Client()
    session.force_login(clinician)

    assert session.delete(V2_TOKEN).status_code == 401  # a session has no token to revoke
    assert call(secret_of(issue("dr_hughes")), V1_TOKEN, "DELETE").status_code == 405
    assert ApiToken.objects.usable().count() == 1


def test_the_public_revoke_call_drops_the_shared_cache_entry(clinician: User, published: Any) -> None:
    # The one call another process's revocation goes through (tests with two gunicorns use it).
    secret = secret_of(issue("dr_hughes"))
    assert call(secret).status_code == 200
    key = tokens.cache_key(token_digest(secret))
    assert cache.get(key) is not None

    assert tokens.token_revoke(token=ApiToken.objects.get(), actor=None, reason=tokens.REVOKED_BY_ADMIN)

    assert cache.get(key) is None
    assert call(secret).status_code == 401
    assert not tokens.token_revoke(token=ApiToken.objects.get(), actor=None, reason=tokens.REVOKED_BY_ADMIN)


# --- the token endpoint's rate limits ----------------------------------------------------------------


def test_a_valid_token_does_not_lift_the_anonymous_limit_of_the_token_endpoint(
    clinician: User, published: Any, settings: Any
) -> None:
    secret = secret_of(issue("dr_hughes"))
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "1000/min"},
    }
    cache.clear()
    client = Client(HTTP_AUTHORIZATION=f"Token {secret}")
    body = {"username": "someone_else", "password": "guess"}

    answers = [client.post(V1_TOKEN, body, content_type="application/json").status_code for _ in range(4)]

    assert answers == [401, 401, 401, 429]


def test_the_token_endpoint_limits_each_username_at_each_address(
    clinician: User, published: Any, settings: Any
) -> None:
    settings.NETCARE_TOKEN_THROTTLE = "2/min"

    same_user = [issue("dr_hughes", "wrong-password").status_code for _ in range(3)]
    other_user = issue("nobody", "wrong-password").status_code

    assert same_user == [401, 401, 429]
    assert other_user == 401


# --- the admin: revoke, never read ------------------------------------------------------------------


def test_the_admin_lists_and_revokes_tokens_but_cannot_read_or_add_them(
    clinician: User, admin_user: User, published: Any
) -> None:
    secret = secret_of(issue("dr_hughes", client="ward laptop"))
    token = ApiToken.objects.get()
    admin = Client()
    admin.force_login(admin_user)

    listing = admin.get("/admin/treatments/apitoken/")
    assert listing.status_code == 200
    assert secret[:8] in listing.content.decode() and secret not in listing.content.decode()
    assert admin.get("/admin/authtoken/tokenproxy/").status_code == 404
    assert admin.get("/admin/treatments/apitoken/add/").status_code == 403
    detail = admin.get(f"/admin/treatments/apitoken/{token.pk}/change/").content.decode()
    assert secret not in detail and 'name="_save"' not in detail

    revoked = admin.post(
        "/admin/treatments/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )

    assert revoked.status_code == 200 and "1 token(s) revoked" in revoked.content.decode()
    assert call(secret).status_code == 401
    event = AuditEvent.objects.get(action="token.revoke")
    assert event.actor_name == admin_user.username and event.payload["reason"] == tokens.REVOKED_BY_ADMIN


def test_a_rule_author_cannot_see_tokens(rule_author: User, published: Any) -> None:
    author = Client()
    author.force_login(rule_author)

    assert author.get("/admin/treatments/apitoken/").status_code == 403


# --- audit: logins, failed logins, tokens, roles --------------------------------------------------


def test_logins_and_failed_logins_are_audited_without_the_password(clinician: User, published: Any) -> None:
    Client().post("/login/", {"username": "dr_hughes", "password": "Sekrit-typed-by-mistake"})
    Client().post("/login/", {"username": "dr_hughes", "password": PASSWORD})

    failed = AuditEvent.objects.get(action="auth.login_failed")
    login = AuditEvent.objects.get(action="auth.login")
    assert failed.actor is None and "dr_hughes" not in str(failed.object_repr)
    assert failed.object_repr.startswith("sha256:")
    assert "Sekrit" not in str(failed.payload) and failed.payload == {"address": "127.0.0.1"}
    assert login.actor == clinician and login.object_id == str(clinician.pk)


def test_issuing_a_token_is_audited_without_its_secret(clinician: User, published: Any) -> None:
    secret = secret_of(issue("dr_hughes", client="ward laptop"))

    event = AuditEvent.objects.get(action="token.issue")
    assert event.actor == clinician and event.object_type == "apitoken"
    assert event.payload == {"user": "dr_hughes", "client": "ward laptop", "prefix": secret[:8]}


def test_the_admin_giving_himself_a_clinical_role_is_audited_under_his_name(
    clinician: User, admin_user: User, published: Any
) -> None:
    """The review's escalation: the superuser adds himself to "clinician" in the user admin."""
    admin = Client()
    admin.force_login(admin_user)
    page = admin.get(f"/admin/auth/user/{admin_user.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["groups"] = [group.pk for group in admin_user.groups.all()] + [
        Group.objects.get(name="clinician").pk
    ]
    data["date_joined_0"], data["date_joined_1"] = str(admin_user.date_joined.date()), "00:00:00"
    data.pop("last_login", None)
    data.pop("date_joined", None)
    data.pop("password", None)

    saved = admin.post(f"/admin/auth/user/{admin_user.pk}/change/", data)

    assert saved.status_code == 302, saved.content.decode()[:2000]
    event = AuditEvent.objects.get(action="access.grant", actor=admin_user)  # not the fixtures' own
    assert event.object_type == "user"
    assert event.object_id == str(admin_user.pk) and event.payload == {"names": ["clinician"]}


def test_role_changes_outside_the_admin_are_audited_as_the_system(clinician: User, published: Any) -> None:
    Group.objects.get(name="clinician").user_set.remove(clinician)

    event = AuditEvent.objects.get(action="access.withdraw")
    assert event.actor is None and event.actor_name == "system"
    assert event.object_type == "group" and event.payload == {"names": ["dr_hughes"]}
