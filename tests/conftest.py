"""Shared fixtures: the knowledge base (parsed once), a published rule set, users by role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import Group, User

from treatments import roles, selectors
from treatments.models import RuleSet
from treatments.rules.document import KnowledgeBase, load_file
from treatments.rules.engine import CompiledRuleSet
from treatments.services.knowledge import knowledge_base_publish

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_BASE = ROOT / "fixtures" / "knowledge_base.yaml"
KB_VERSION = str(yaml.safe_load(KNOWLEDGE_BASE.read_text(encoding="utf-8"))["version"])
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def knowledge_base() -> KnowledgeBase:
    return load_file(KNOWLEDGE_BASE)


@pytest.fixture(scope="session")
def compiled(knowledge_base: KnowledgeBase) -> CompiledRuleSet:
    return knowledge_base.compile()


@pytest.fixture(autouse=True)
def _fresh_ruleset_cache() -> Iterator[None]:
    # The compiled rule set is cached per process; each test starts from its own database.
    selectors.forget_published_ruleset()
    yield
    selectors.forget_published_ruleset()


@pytest.fixture
def published(db: None) -> RuleSet:
    """The real knowledge base, published in the test database."""
    rule_set = knowledge_base_publish(KNOWLEDGE_BASE)
    assert rule_set is not None
    return rule_set


def make_user(username: str, *role_names: str, **extra: object) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, **extra)  # type: ignore[arg-type]
    # get_or_create: transactional tests flush the groups that migration 0002 made.
    user.groups.set([Group.objects.get_or_create(name=name)[0] for name in role_names])
    return user


@pytest.fixture
def clinician(db: None) -> User:
    return make_user("dr_hughes", roles.CLINICIAN, first_name="Clara", last_name="Hughes")


@pytest.fixture
def coordinator(db: None) -> User:
    return make_user("mdt_reyes", roles.COORDINATOR, first_name="Colin", last_name="Reyes")


@pytest.fixture
def rule_author(db: None) -> User:
    return make_user("author_patel", roles.RULE_AUTHOR, is_staff=True)


@pytest.fixture
def admin_user(db: None) -> User:
    return make_user("admin_novak", roles.ADMIN, is_staff=True, is_superuser=True)
