"""Shared state: REDIS_URL selects Django's Redis cache (otherwise each process keeps its own),
/readyz reads and writes the cache, and a rule-set publication is announced through the cache so
every process uses it on its next request."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from netcare.env import env_url
from tests.conftest import KNOWLEDGE_BASE, ROOT
from treatments import selectors
from treatments.models import RuleSet
from treatments.rules.document import parse_data
from treatments.selectors.ruleset import GENERATION_KEY, announce_publication
from treatments.services import ruleset_publish

SCHEMES = ("redis", "rediss", "unix")


CACHE_SETTINGS = (
    "import netcare.settings as s; c = s.CACHES['default']; "
    "print(c['BACKEND'], c.get('KEY_PREFIX'), s.NETCARE_RULESET_BROADCAST)"
)


def settings_in_a_new_process(
    tmp_path: Path, code: str = CACHE_SETTINGS, **environment: str
) -> subprocess.CompletedProcess[str]:
    own = ("REDIS_URL", "CACHE_KEY_PREFIX", "TASK_BACKEND", "DEBUG", "SECRET_KEY")
    env = {k: v for k, v in os.environ.items() if k not in own}
    env.update(DEBUG="true", NETCARE_ENV_FILE="", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**env, **environment}, capture_output=True, text=True
    )


def test_without_redis_url_each_process_keeps_its_own_cache(tmp_path: Path) -> None:
    result = settings_in_a_new_process(tmp_path)

    assert result.stdout.split() == ["django.core.cache.backends.locmem.LocMemCache", "None", "False"]


def test_redis_url_selects_djangos_redis_cache_with_a_key_prefix_and_the_broadcast(tmp_path: Path) -> None:
    result = settings_in_a_new_process(
        tmp_path, REDIS_URL="redis://127.0.0.1:6379/3", CACHE_KEY_PREFIX="trust-a"
    )

    assert result.stdout.split() == ["django.core.cache.backends.redis.RedisCache", "trust-a", "True"]


def test_a_redis_url_of_another_scheme_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    result = settings_in_a_new_process(tmp_path, REDIS_URL="http://user:secret@cache:6379")

    assert result.returncode != 0
    assert "REDIS_URL must be a URL starting with redis://" in result.stderr
    assert "secret" not in result.stderr  # the message never repeats a password


@pytest.mark.parametrize("raw", ["localhost:6379", "redis://", "ftp://cache/0"])
def test_env_url_refuses_what_is_not_a_url_of_the_schemes(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("NETCARE_TEST_URL", raw)
    with pytest.raises(ImproperlyConfigured, match="^NETCARE_TEST_URL must be a URL"):
        env_url("NETCARE_TEST_URL", SCHEMES)


def test_env_url_is_empty_when_unset_and_keeps_a_good_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETCARE_TEST_URL", raising=False)
    assert env_url("NETCARE_TEST_URL", SCHEMES) == ""
    monkeypatch.setenv("NETCARE_TEST_URL", " unix:///run/redis/redis.sock?db=2 ")
    assert env_url("NETCARE_TEST_URL", SCHEMES) == "unix:///run/redis/redis.sock?db=2"


# --- /readyz ---------------------------------------------------------------------------------------


def redis_cache(url: str, prefix: str) -> dict[str, Any]:
    options = {"socket_connect_timeout": 1, "socket_timeout": 1}
    backend = "django.core.cache.backends.redis.RedisCache"
    return {"default": {"BACKEND": backend, "LOCATION": url, "KEY_PREFIX": prefix, "OPTIONS": options}}


@pytest.mark.django_db
def test_readyz_reports_the_per_process_cache(published: RuleSet) -> None:
    response = Client().get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["cache"] == "ok (per process)"


@pytest.mark.django_db
def test_readyz_is_not_ready_while_redis_does_not_answer(published: RuleSet, settings: Any) -> None:
    # Port 1 on this host: nothing listens, the connection is refused at once.
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0", "netcare-unreachable")
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "error: cache unavailable (ConnectionError)"
    assert response["Retry-After"]


@pytest.mark.redis
@pytest.mark.django_db
def test_readyz_writes_and_reads_a_key_in_redis(
    published: RuleSet, settings: Any, redis_url: str, redis_prefix: str
) -> None:
    settings.CACHES = redis_cache(redis_url, redis_prefix)
    settings.REDIS_URL = redis_url

    response = Client().get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["cache"] == "ok"


# --- the rule-set broadcast -------------------------------------------------------------------------


def revised(version: str) -> Any:
    content = yaml.safe_load(KNOWLEDGE_BASE.read_text(encoding="utf-8"))
    content["version"] = version
    return parse_data(content)


@pytest.fixture
def broadcast(settings: Any) -> None:
    """The broadcast on, and the time-based re-check out of the way: only the stamp can tell."""
    settings.NETCARE_RULESET_BROADCAST = True
    settings.NETCARE_RULESET_RECHECK_SECONDS = 3600
    cache.delete(GENERATION_KEY)


def test_with_the_broadcast_an_unchanged_stamp_costs_no_query(
    published: RuleSet, broadcast: None, django_assert_num_queries: Any
) -> None:
    first = selectors.published_ruleset()
    with django_assert_num_queries(0):
        assert selectors.published_ruleset() is first


def test_a_publication_announced_by_another_process_is_used_on_the_next_call(
    published: RuleSet, broadcast: None
) -> None:
    first = selectors.published_ruleset()
    # Another process publishes (its commit is this test's write) and announces it in the cache;
    # this process keeps its compiled copy: nothing here forgets it.
    ruleset_publish(knowledge_base=revised("1.9.0"))
    assert selectors.published_ruleset() is first
    announce_publication()

    assert selectors.published_ruleset().info.version == "1.9.0"


def test_a_lost_stamp_makes_every_process_look_again(published: RuleSet, broadcast: None) -> None:
    selectors.published_ruleset()
    ruleset_publish(knowledge_base=revised("1.9.1"))
    cache.delete(GENERATION_KEY)  # evicted, or Redis restarted empty

    assert selectors.published_ruleset().info.version == "1.9.1"


@pytest.mark.django_db
def test_when_the_cache_cannot_be_read_evaluation_goes_on_with_the_time_based_recheck(
    published: RuleSet, broadcast: None, settings: Any
) -> None:
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0", "netcare-unreachable")
    settings.NETCARE_RULESET_RECHECK_SECONDS = 0

    assert selectors.published_ruleset().info.version == published.version
    ruleset_publish(knowledge_base=revised("1.9.2"))
    assert selectors.published_ruleset().info.version == "1.9.2"


@pytest.mark.django_db
def test_while_redis_does_not_answer_the_api_and_pages_answer_503_not_500(
    clinician: Any, published: RuleSet, settings: Any
) -> None:
    from tests.api.conftest import client_for
    from tests.pages.conftest import logged_in

    api = client_for(clinician)
    page = logged_in(clinician)
    settings.CACHES = redis_cache("redis://127.0.0.1:1/0", "netcare-unreachable")

    answer = api.get_json("/api/v2/rulesets/current/")  # the throttle counts in the cache
    login = Client().post("/login/", {"username": "nobody", "password": "wrong-password"})

    assert answer.status_code == 503 and answer["Retry-After"]
    assert answer.json()["detail"] == "The shared cache is unavailable. Try again shortly."
    assert login.status_code == 503
    assert page.get("/meetings/").status_code == 200  # what needs no cache goes on working
