"""Settings come from the environment: a bad value stops start-up with a message naming the variable,
there is no default secret outside debug, and the demo users exist only for development."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from netcare.env import env_bool, env_int, env_list, env_str
from tests.conftest import ROOT
from treatments import roles
from treatments.management.commands.seed_demo import DEMO_PASSWORD

VARIABLE = "NETCARE_TEST_SETTING"

# --- the typed readers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        (" on ", True),
        ("0", False),
        ("FALSE", False),
        ("no", False),
    ]
    + [("off", False), ("", False)],
)
def test_env_bool_reads_the_usual_words(monkeypatch: pytest.MonkeyPatch, raw: str, value: bool) -> None:
    monkeypatch.setenv(VARIABLE, raw)
    assert env_bool(VARIABLE, not value) is value


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled", "y"])
def test_env_bool_rejects_anything_else_and_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv(VARIABLE, raw)
    with pytest.raises(ImproperlyConfigured, match=f"^{VARIABLE}='{raw}' is not a boolean"):
        env_bool(VARIABLE)


def test_env_bool_keeps_the_default_when_the_variable_is_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    assert env_bool(VARIABLE, True) is True
    assert env_bool(VARIABLE) is False


@pytest.mark.parametrize(("raw", "value"), [("7", 7), (" 12 ", 12), ("0", 0), ("", 5)])
def test_env_int_reads_a_whole_number(monkeypatch: pytest.MonkeyPatch, raw: str, value: int) -> None:
    monkeypatch.setenv(VARIABLE, raw)
    assert env_int(VARIABLE, 5, minimum=0) == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("ten", f"{VARIABLE}='ten' is not a whole number"),
        ("2.5", f"{VARIABLE}='2.5' is not a whole number"),
        ("-1", f"{VARIABLE}=-1 must be at least 0"),
    ],
)
def test_env_int_rejects_a_bad_number_and_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, raw: str, message: str
) -> None:
    monkeypatch.setenv(VARIABLE, raw)
    with pytest.raises(ImproperlyConfigured, match=f"^{message}$"):
        env_int(VARIABLE, 5, minimum=0)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VARIABLE, " netcare.nhs.uk, ,localhost,")
    assert env_list(VARIABLE, ["default"]) == ["netcare.nhs.uk", "localhost"]
    monkeypatch.delenv(VARIABLE)
    assert env_list(VARIABLE, ["default"]) == ["default"]


def test_env_str_reads_the_text_or_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VARIABLE, raising=False)
    assert env_str(VARIABLE, "fallback") == "fallback"
    monkeypatch.setenv(VARIABLE, "value")
    assert env_str(VARIABLE, "fallback") == "value"


# --- the settings module, imported in a fresh process ---------------------------------------------

# The variables the settings read that a developer's shell (or the test run) may already have set.
CONTROLLED = {
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "CONN_MAX_AGE",
    "SECURE_COOKIES",
    "DJANGO_SETTINGS_MODULE",
}
CONTROLLED |= {"NETCARE_RULESET_RECHECK_SECONDS", "ALLOWED_HOSTS"}


def import_settings(print_expression: str = "''", **environment: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if name not in CONTROLLED}
    code = f"import netcare.settings as s; print({print_expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_refuse_to_start_without_a_secret_key_when_debug_is_off() -> None:
    result = import_settings()
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_settings_use_a_development_key_only_with_debug_on() -> None:
    result = import_settings(
        "s.DEBUG, s.SECRET_KEY.startswith('insecure-'), s.SESSION_COOKIE_SECURE", DEBUG="true"
    )
    assert (result.returncode, result.stdout.strip()) == (0, "True True False"), result.stderr


def test_settings_are_secure_by_default_with_a_secret_key() -> None:
    result = import_settings(
        "s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.DATABASES['default']['ENGINE']",
        SECRET_KEY="k" * 50,
    )
    assert (result.returncode, result.stdout.strip()) == (
        0,
        "False True True django.db.backends.sqlite3",
    ), result.stderr


def test_settings_use_postgresql_when_a_database_url_is_given() -> None:
    result = import_settings(
        "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME']",
        SECRET_KEY="k" * 50,
        DATABASE_URL="postgres://netcare@db.internal:5432/netcare",
    )
    assert (result.returncode, result.stdout.strip()) == (0, "django.db.backends.postgresql netcare"), (
        result.stderr
    )


@pytest.mark.parametrize(
    ("variable", "raw", "message"),
    [
        ("DEBUG", "perhaps", "DEBUG='perhaps' is not a boolean"),
        ("SECURE_COOKIES", "sometimes", "SECURE_COOKIES='sometimes' is not a boolean"),
        ("CONN_MAX_AGE", "-5", "CONN_MAX_AGE=-5 must be at least 0"),
        (
            "NETCARE_RULESET_RECHECK_SECONDS",
            "soon",
            "NETCARE_RULESET_RECHECK_SECONDS='soon' is not a whole number",
        ),
        (
            "FHIR_MAX_AGE_DAYS",
            "platelets_10e9_l=soon",
            "FHIR_MAX_AGE_DAYS item 'platelets_10e9_l=soon' is not fact=days",
        ),
        (
            "FHIR_MAX_AGE_DAYS",
            "platelets=14",
            "FHIR_MAX_AGE_DAYS item 'platelets=14' is not fact=days",
        ),
        (
            "FHIR_PROCEDURE_CODES",
            "http://snomed.info/sct|123=tace",
            "FHIR_PROCEDURE_CODES item 'http://snomed.info/sct|123=tace' is not system|code=modality",
        ),
        (
            "FHIR_PROCEDURE_CODES",
            "123=liver_embolisation",
            "FHIR_PROCEDURE_CODES item '123=liver_embolisation' is not system|code=modality",
        ),
    ],
)
def test_a_bad_setting_stops_start_up_with_a_message_naming_the_variable(
    variable: str, raw: str, message: str
) -> None:
    result = import_settings(SECRET_KEY="k" * 50, **{variable: raw})
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr


def test_freshness_windows_are_read_by_fact_with_none_for_no_limit() -> None:
    result = import_settings(
        "sorted(s.NETCARE_FHIR_MAX_AGE_DAYS.items(), key=str)",
        SECRET_KEY="k" * 50,
        FHIR_MAX_AGE_DAYS="platelets_10e9_l=14, assessment=none",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[('assessment', None), ('platelets_10e9_l', 14)]"


def test_the_units_procedure_codes_are_read_as_system_code_and_modality() -> None:
    result = import_settings(
        "'\\n'.join(f'{k} {v}' for k, v in s.NETCARE_FHIR_PROCEDURE_CODES.items())",
        SECRET_KEY="k" * 50,
        FHIR_PROCEDURE_CODES="http://trust.example/proc|TACE-01=liver_embolisation, http://snomed.info/sct|9=thermal_ablation",
    )
    assert result.returncode == 0, result.stderr
    codes = dict(line.split(" ") for line in result.stdout.split("\n") if line)
    assert codes == {
        "http://trust.example/proc|TACE-01": "liver_embolisation",
        "http://snomed.info/sct|9": "thermal_ablation",
    }


# --- demo users -----------------------------------------------------------------------------------

DEMO_USERS = {
    "clinician": (roles.CLINICIAN, False, False),
    "coordinator": (roles.COORDINATOR, False, False),
    "author": (roles.RULE_AUTHOR, True, False),
    "admin": (roles.ADMIN, True, True),
}


@pytest.mark.django_db
def test_seed_demo_refuses_to_create_users_with_a_known_password_without_debug(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG=true"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not User.objects.exists()


@pytest.mark.django_db
def test_seed_demo_creates_the_four_demo_users_with_their_roles(settings: Any) -> None:
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=io.StringIO())  # running it again changes nothing
    users = {user.username: user for user in User.objects.prefetch_related("groups")}
    assert set(users) == set(DEMO_USERS)
    for username, (role, staff, superuser) in DEMO_USERS.items():
        user = users[username]
        assert [group.name for group in user.groups.all()] == [role]
        assert (user.is_staff, user.is_superuser) == (staff, superuser), username
        assert user.check_password(DEMO_PASSWORD)
        assert roles.user_roles(user) == {role}
        assert username in out.getvalue()
