"""The admin: rule authors browse rule sets (published ones read-only); administrators read and
filter the audit trail, which nobody can change there."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from treatments.models import AuditEvent, RuleSet


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_administrator_reads_and_filters_the_audit_trail(published: RuleSet, admin_user: User) -> None:
    client = signed_in(admin_user)

    listing = client.get("/admin/treatments/auditevent/?action=ruleset.publish")
    event = AuditEvent.objects.get(action="ruleset.publish")
    detail = client.get(f"/admin/treatments/auditevent/{event.pk}/change/")

    assert listing.status_code == 200 and "ruleset.publish" in listing.content.decode()
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()  # read-only: no save button


def test_nobody_adds_changes_or_deletes_audit_events_in_the_admin(
    published: RuleSet, admin_user: User
) -> None:
    client = signed_in(admin_user)
    event = AuditEvent.objects.get(action="ruleset.publish")

    assert client.get("/admin/treatments/auditevent/add/").status_code == 403
    assert client.post(f"/admin/treatments/auditevent/{event.pk}/change/", {"action": "x"}).status_code == 403
    assert client.post(f"/admin/treatments/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "ruleset.publish"


def test_a_rule_author_does_not_see_the_audit_trail(published: RuleSet, rule_author: User) -> None:
    client = signed_in(rule_author)

    assert client.get("/admin/treatments/auditevent/").status_code == 403
    assert client.get("/admin/treatments/ruleset/").status_code == 200


def test_a_published_rule_set_is_read_only_in_the_admin(published: RuleSet, rule_author: User) -> None:
    client = signed_in(rule_author)
    rule = published.rules.first()
    assert rule is not None

    page = client.get(f"/admin/treatments/rule/{rule.pk}/change/")
    posted = client.post(f"/admin/treatments/rule/{rule.pk}/change/", {"reason": "edited"})

    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert posted.status_code == 403
    rule.refresh_from_db()
    assert rule.reason != "edited"


def test_clinicians_have_no_admin(published: Any, clinician: User) -> None:
    response = signed_in(clinician).get("/admin/")

    assert response.status_code == 302  # to the admin login: clinicians are not staff
