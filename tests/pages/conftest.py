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
