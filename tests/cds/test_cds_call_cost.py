"""What one `patient-view` call costs the database, pinned so that it cannot grow unnoticed
(docs/cds-hooks.md, "Speed"), and the replay store kept in the same commit as the answer: a replayed
service JWT is refused whether the first call was answered with cards, without, or refused."""

from __future__ import annotations

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.cds.conftest import SERVICE, Ehr, bundle_call, other_key
from tools.cds_client import public_jwks
from treatments.models import CdsJti, HookEvaluation

pytestmark = pytest.mark.django_db

SI_NET = "ex-si-net-g2.json"

# One call that stores an answer: SELECT the client and the early replay check; then one transaction
# (BEGIN/COMMIT in production; savepoints here, as the test runs inside a transaction): INSERT the JWT
# id, SELECT the rule set row, INSERT the hook evaluation, its cards and the audit event; plus the
# savepoints of the two nested atomic blocks.
QUERIES_PER_STORED_CALL = 13


def test_a_call_with_cards_makes_a_fixed_number_of_queries(ehr: Ehr) -> None:
    call = bundle_call(SI_NET)
    assert ehr.post(SERVICE, call).status_code == 200  # compiles the rules, validates the prefetch once

    with CaptureQueriesContext(connection) as queries:
        assert ehr.post(SERVICE, call).status_code == 200

    statements = [query["sql"].split()[0] for query in queries.captured_queries]
    assert len(statements) == QUERIES_PER_STORED_CALL, statements
    assert statements.count("INSERT") == 4  # jti, hook evaluation, cards, audit event
    assert statements.count("SELECT") == 3  # client, replay check, rule set row


def test_a_replayed_service_jwt_is_refused_and_nothing_more_is_stored(ehr: Ehr) -> None:
    token = ehr.token(SERVICE)
    call = bundle_call(SI_NET)

    assert ehr.post(SERVICE, call, token=token).status_code == 200
    assert ehr.post(SERVICE, call, token=token).status_code == 401
    assert HookEvaluation.objects.count() == 1
    assert CdsJti.objects.count() == 1


@pytest.mark.parametrize("kind", ["no cards", "412", "400"])
def test_a_jwt_is_used_up_by_a_call_that_stores_no_answer(ehr: Ehr, kind: str) -> None:
    call = bundle_call(SI_NET)
    if kind == "no cards":
        call["context"]["userId"] = "Patient/p1"
    elif kind == "412":
        del call["prefetch"]["conditions"]
    else:
        call = copy.deepcopy(call)
        del call["hookInstance"]
    token = ehr.token(SERVICE)

    first = ehr.post(SERVICE, call, token=token)

    assert first.status_code == {"no cards": 200, "412": 412, "400": 400}[kind]
    assert CdsJti.objects.count() == 1
    assert ehr.post(SERVICE, bundle_call(SI_NET), token=token).status_code == 401
    assert not HookEvaluation.objects.exists()


def test_new_keys_registered_for_a_client_apply_at_once(ehr: Ehr) -> None:
    assert ehr.post(SERVICE, bundle_call(SI_NET)).status_code == 200  # the old key is parsed and kept
    new_key = other_key()
    ehr.client.jwks = public_jwks(new_key, "ehr-key-2")
    ehr.client.save()

    assert ehr.post(SERVICE, bundle_call(SI_NET)).status_code == 401  # old kid: no longer registered
    assert ehr.post(SERVICE, bundle_call(SI_NET), key=new_key, kid="ehr-key-2").status_code == 200
