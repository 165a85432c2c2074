"""Page fixtures: a logged-in browser-less client per persona (Django's test client)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import PASSWORD, make_user


def logged_in(user: User) -> Client:
    client = Client()
    assert client.login(username=user.get_username(), password=PASSWORD)
    return client


@pytest.fixture
def clinician_client(clinician: User, published: object) -> Client:
    return logged_in(clinician)


@pytest.fixture
def admin_client_(admin_user: User, published: object) -> Client:
    """The administrator: may browse the catalogue but not check patients (roles.py)."""
    return logged_in(admin_user)


@pytest.fixture
def roleless_client(db: None, published: object) -> Client:
    """A user with an account but no role: logged in, allowed nothing."""
    return logged_in(make_user("no_role"))


@pytest.fixture
def coordinator_client(coordinator: User, published: object) -> Client:
    """Colin Reyes, MDT coordinator: prepares cases and meetings; does not review or decide."""
    return logged_in(coordinator)


@pytest.fixture
def author_client(rule_author: User, published: object) -> Client:
    """A rule author: no access to patients' cases."""
    return logged_in(rule_author)


@pytest.fixture
def second_clinician(db: None) -> User:
    """Dr Okafor, a second clinician, for edit conflicts."""
    return make_user("dr_okafor", "clinician", first_name="Priya", last_name="Okafor")
