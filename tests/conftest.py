"""Shared fixtures: the knowledge base (parsed once), a published rule set, users by role.

The test database holds the real knowledge base, published once per session (per xdist worker) in
`django_db_setup`: a DB test starts from it and its transaction rolls back to it. Tests that need
no rule set at all ask for `no_knowledge_base`. Transactional tests (`transaction=True`, the live
server of the browser tests) flush every table when they end: the knowledge base is published again
right after (`pytest_runtest_teardown` below), before the next test starts.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
import yaml
from django.contrib.auth.models import Group, User
from django.db import connection
from pytest_django import DjangoDbBlocker
from pytest_django.fixtures import validate_django_db

from treatments import roles, selectors
from treatments.models import AuditEvent, Modality, Rule, RuleSet
from treatments.rules.document import KnowledgeBase, load_file
from treatments.rules.engine import CompiledRuleSet
from treatments.services import ruleset_draft_clone, ruleset_publish

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_BASE = ROOT / "fixtures" / "knowledge_base.yaml"
KB_VERSION = str(yaml.safe_load(KNOWLEDGE_BASE.read_text(encoding="utf-8"))["version"])
PASSWORD = "correct-horse-battery"

# Set while the session's test database exists: publishes the knowledge base into it again.
_restore_knowledge_base = pytest.StashKey[Callable[[], None]]()


@pytest.fixture(scope="session")
def knowledge_base() -> KnowledgeBase:
    return load_file(KNOWLEDGE_BASE)


@pytest.fixture(scope="session")
def compiled(knowledge_base: KnowledgeBase) -> CompiledRuleSet:
    return knowledge_base.compile()


def _publish(knowledge_base: KnowledgeBase) -> RuleSet:
    """The knowledge base's published rule set, published now unless it already is."""
    current = RuleSet.objects.published().first()
    if current is not None and current.checksum == knowledge_base.checksum:
        return current
    rule_set = ruleset_publish(knowledge_base=knowledge_base)
    assert rule_set is not None
    selectors.forget_published_ruleset()
    return rule_set


@pytest.fixture(scope="session")
def django_db_setup(
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
    knowledge_base: KnowledgeBase,
    request: pytest.FixtureRequest,
) -> Generator[None]:
    """pytest-django's test database, with the real knowledge base published once."""

    def restore() -> None:
        with django_db_blocker.unblock():
            _publish(knowledge_base)

    restore()
    request.config.stash[_restore_knowledge_base] = restore
    yield
    # Before pytest-django drops the test database (and the settings point at the real one again).
    del request.config.stash[_restore_knowledge_base]


def _flushes_tables(item: pytest.Item) -> bool:
    """Whether pytest-django runs this test as a TransactionTestCase (it flushes all tables after)."""
    names = getattr(item, "fixturenames", ())
    if {"transactional_db", "live_server", "django_db_reset_sequences"} & set(names):
        return True
    marker = item.get_closest_marker("django_db")
    if marker is None:
        return False
    transaction, reset_sequences, *_ = validate_django_db(marker)
    return transaction or reset_sequences


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    try:
        return (yield)
    finally:
        restore = item.config.stash.get(_restore_knowledge_base, None)
        if restore is not None and nextitem is not None and _flushes_tables(item):
            restore()


@pytest.fixture(autouse=True)
def _fresh_ruleset_cache() -> Iterator[None]:
    # The compiled rule set is cached per process; each test starts from its own database.
    selectors.forget_published_ruleset()
    yield
    selectors.forget_published_ruleset()


@pytest.fixture
def published(db: None, knowledge_base: KnowledgeBase) -> RuleSet:
    """The real knowledge base, published in the test database (since the session began)."""
    return _publish(knowledge_base)


@pytest.fixture
def draft(published: RuleSet, rule_author: User) -> RuleSet:
    """Draft 1.3.0-draft: a clone of the published content by the rule author, ready to edit."""
    return ruleset_draft_clone(actor=rule_author, version="1.3.0-draft")


@pytest.fixture
def no_knowledge_base(db: None) -> None:
    """A database where no rule set was ever published, nor audited (undone when the test ends)."""
    # Raw SQL: the models refuse to delete a published rule set or the audit trail, rightly, and so
    # do the database's triggers on PostgreSQL (migration 0006): as pg_restore --disable-triggers
    # does, a superuser switches user triggers off, here for this test's transaction only.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        for model in (Rule, Modality, RuleSet, AuditEvent):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    selectors.forget_published_ruleset()


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
def author(db: None) -> User:
    """A rule author of the governance tests (a second one beside `rule_author`)."""
    return make_user("author_ada", roles.RULE_AUTHOR)


@pytest.fixture
def reviewer(db: None) -> User:
    return make_user("reviewer_rui", roles.RULE_REVIEWER)


@pytest.fixture
def cso(db: None) -> User:
    """A clinical safety officer: publishes rule sets."""
    return make_user("cso_chen", roles.CLINICAL_SAFETY_OFFICER)


@pytest.fixture
def admin_user(db: None) -> User:
    return make_user("admin_novak", roles.ADMIN, is_staff=True, is_superuser=True)


# --- Redis-marked tests (tests/test_scale_*.py) ----------------------------------------------------
#
# They talk to a real Redis at REDIS_URL (`make test` exports redis://127.0.0.1:6379/0 unless set;
# netcare/settings_test.py keeps it from the rest of the suite).
# Without an answering server they are skipped, saying why; NETCARE_REQUIRE_REDIS=1 (set by .ci/run)
# makes that a failure instead, so CI cannot pass without having run them. Each test keeps to its
# own key prefix and deletes only its own keys: never FLUSHDB or FLUSHALL a shared server.


def redis_url_or_skip() -> str:
    """REDIS_URL (default: this host's Redis) if a server answers there; else skip, or fail in CI."""
    import os

    import redis

    # netcare/settings_test.py moves REDIS_URL here, out of the way of the rest of the suite.
    url = os.environ.get("NETCARE_TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        reason = f"no Redis answers at REDIS_URL ({type(exc).__name__}); start redis-server to run this"
        if os.environ.get("NETCARE_REQUIRE_REDIS", "") not in ("", "0"):
            pytest.fail(reason + " (NETCARE_REQUIRE_REDIS is set)")
        pytest.skip(reason)
    return url


def delete_redis_keys(url: str, prefix: str) -> None:
    """Delete the keys Django's cache wrote under `prefix` (prefix:version:key), and nothing else."""
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
    if keys:
        client.delete(*keys)


@pytest.fixture
def redis_url() -> str:
    return redis_url_or_skip()


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A cache key prefix of this test's own; its keys are deleted afterwards."""
    import uuid

    prefix = f"netcare-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    delete_redis_keys(redis_url, prefix)
