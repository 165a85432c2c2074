"""Catalogue search stays cheap (security review F1): one query whatever the number of words, the
same matches as the join-per-word search it replaced, at most MAX_SEARCH_WORDS words, and a
statement the database cancels (statement_timeout) answers 503 with Retry-After, not 500."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import psycopg
import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import ROOT
from tests.pages.conftest import logged_in
from treatments import selectors
from treatments.inputs import MAX_SEARCH_WORDS
from treatments.models import Modality

from .conftest import ApiClient, client_for

SEARCHES = [
    "lutetium",
    "PRRT",
    "ki-67",
    "surgery",
    "e",
    "liver",
    "the and",
    "pancreatic net",
    "somatostatin analogue",
    "sstr positive",
    "grade 3",
    "carcinoid syndrome",
    "zzzyxq",
]
TWELVE_WORDS = "well differentiated pancreatic net grade prrt lutetium sstr positive the and of"


def _matches_by_joins(search: str) -> list[str]:
    """The search as it was before F1 (a join on the rules per word): the reference for 1-2 words."""
    rule_set = selectors.current_ruleset()
    assert rule_set is not None
    modalities = Modality.objects.filter(rule_set=rule_set)
    for word in search.split():
        modalities = modalities.filter(
            Q(key__icontains=word)
            | Q(name__icontains=word)
            | Q(description__icontains=word)
            | Q(agents__icontains=word)
            | Q(hospital_page__icontains=word)
            | Q(rules__title__icontains=word)
            | Q(rules__reason__icontains=word)
            | Q(rules__source__icontains=word)
        )
    return list(modalities.distinct().order_by("display_order").values_list("key", flat=True))


@pytest.mark.parametrize("search", SEARCHES)
def test_a_search_of_one_or_two_words_finds_what_the_join_per_word_search_found(
    published: object, search: str
) -> None:
    found = [modality.key for modality in selectors.catalogue(search=search)]

    assert found == _matches_by_joins(search)


def test_a_search_of_twelve_words_is_one_query_for_the_modalities_and_one_for_their_rules(
    api: ApiClient,
) -> None:
    assert len(TWELVE_WORDS.split()) == MAX_SEARCH_WORDS
    api.get_json("/api/v2/modalities/?search=x")  # token and rule set looked up once before
    with CaptureQueriesContext(connection) as one_word:
        assert api.get_json("/api/v2/modalities/?search=prrt").status_code == 200
    with CaptureQueriesContext(connection) as twelve_words:
        response = api.get_json(f"/api/v2/modalities/?search={TWELVE_WORDS}")

    assert response.status_code == 200
    assert len(twelve_words) <= len(one_word)
    modality_table = Modality._meta.db_table
    (search_sql,) = [
        q["sql"] for q in twelve_words.captured_queries if f'FROM "{modality_table}"' in q["sql"]
    ]
    assert "JOIN" not in search_sql.upper()
    assert search_sql.upper().count("EXISTS") == MAX_SEARCH_WORDS


def test_a_search_of_several_words_keeps_what_holds_every_word(api: ApiClient) -> None:
    keys = [m["key"] for m in api.get_json("/api/v2/modalities/?search=prrt lutetium sstr").json()]

    assert "prrt_lu177" in keys
    assert keys == _matches_by_joins("prrt lutetium sstr")


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_more_words_than_the_cap_get_a_400_naming_the_parameter(api: ApiClient, version: str) -> None:
    words = " ".join(["net"] * (MAX_SEARCH_WORDS + 1))

    response = api.get_json(f"/api/{version}/modalities/?search={words}")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"loc": ["query", "search"], "msg": f"must be at most {MAX_SEARCH_WORDS} words"}
    ]


# --- statement_timeout ----------------------------------------------------------------------------


def _settings_in_a_process(*args: str, **env: str) -> str:
    environment = {**os.environ, "NETCARE_ENV_FILE": "", "SECRET_KEY": "x" * 50, **env}
    environment.pop("DATABASE_STATEMENT_TIMEOUT_MS", None)
    environment.pop("DATABASE_COMMAND_STATEMENT_TIMEOUT_MS", None)
    environment.update(env)
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


PRINT_OPTIONS = (
    "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'].get('options'))"
)
PG_URL = "postgres://postgres@127.0.0.1:5432/netcare"


def test_web_processes_cancel_a_statement_after_five_seconds_by_default() -> None:
    code = f"import django; django.setup(); {PRINT_OPTIONS}"
    env = {"DJANGO_SETTINGS_MODULE": "netcare.settings", "DATABASE_URL": PG_URL}

    assert _settings_in_a_process("-c", code, **env) == "-c statement_timeout=5000"
    limited = _settings_in_a_process("-c", code, DATABASE_STATEMENT_TIMEOUT_MS="250", **env)
    assert limited == "-c statement_timeout=250"
    assert _settings_in_a_process("-c", code, DATABASE_STATEMENT_TIMEOUT_MS="0", **env) == "None"


def test_management_commands_have_their_own_limit_none_by_default() -> None:
    env = {"DATABASE_URL": PG_URL, "DEBUG": "true"}

    assert _settings_in_a_process("manage.py", "shell", "-v", "0", "-c", PRINT_OPTIONS, **env) == "None"
    limited = _settings_in_a_process(
        "manage.py",
        "shell",
        "-v",
        "0",
        "-c",
        PRINT_OPTIONS,
        DATABASE_COMMAND_STATEMENT_TIMEOUT_MS="60000",
        **env,
    )
    assert limited == "-c statement_timeout=60000"


@pytest.fixture
def short_statement_timeout(transactional_db: None) -> Iterator[None]:
    """This connection cancels statements after 200 ms while another session locks the modalities,
    so the catalogue's query waits and is cancelled by the server, as a runaway query would be."""
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's")
    settings = connection.settings_dict
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        dsn = f"host={settings['HOST']} port={settings['PORT'] or 5432} user={settings['USER']}"
        with psycopg.connect(f"{dsn} dbname={settings['NAME']}") as other:
            other.execute(f"LOCK TABLE {Modality._meta.db_table} IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    assert locked.wait(10)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 200")
    try:
        yield
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")


def test_a_cancelled_statement_answers_503_with_retry_after_on_the_api_and_the_page(
    clinician: User, published: object, short_statement_timeout: None
) -> None:
    api = client_for(clinician)
    api.raise_request_exception = False
    page = logged_in(clinician)
    page.raise_request_exception = False

    answer = api.get_json("/api/v2/modalities/?search=prrt")
    shown = page.get("/catalogue/?q=prrt")

    assert answer.status_code == 503, answer.content
    assert int(answer["Retry-After"]) > 0
    assert answer.json()["detail"].startswith("The database is unavailable")
    assert shown.status_code == 503
    assert int(shown["Retry-After"]) > 0


def test_the_catalogue_page_refuses_more_words_than_the_cap_by_the_field(
    clinician: User, published: object
) -> None:
    page: Client = logged_in(clinician)
    words = " ".join(["net"] * (MAX_SEARCH_WORDS + 1))

    response = page.get("/catalogue/", {"q": words})

    assert response.status_code == 200
    assert f"Search must be at most {MAX_SEARCH_WORDS} words" in response.content.decode()


def test_the_catalogue_page_searches_twelve_words_in_as_many_queries_as_one(
    clinician: User, published: object
) -> None:
    page: Client = logged_in(clinician)
    page.get("/catalogue/", {"q": "x"})
    with CaptureQueriesContext(connection) as one_word:
        page.get("/catalogue/", {"q": "prrt"})
    with CaptureQueriesContext(connection) as twelve_words:
        response = page.get("/catalogue/", {"q": TWELVE_WORDS})

    assert response.status_code == 200
    assert len(twelve_words) <= len(one_word)
