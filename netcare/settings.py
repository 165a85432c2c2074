"""NETcare settings, read from the environment (see README: "Settings", docs/deployment.md).

SQLite is the default so that a new user needs no server; PostgreSQL is used when DATABASE_URL is
set. DEBUG is off unless asked for, and then a secret key is required.

A local `.env` file (written by `make run`: DEBUG on and a generated key, for development) is read
first, so that `manage.py` works in a development checkout; variables set in the real environment
win. NETCARE_ENV_FILE names another file, or none when empty (the tests and `make serve` read none).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str, env_url, load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent

_ENV_FILE = env_str("NETCARE_ENV_FILE", str(BASE_DIR / ".env"))
if _ENV_FILE:
    load_env_file(_ENV_FILE if Path(_ENV_FILE).is_absolute() else BASE_DIR / _ENV_FILE)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (e.g. SECRET_KEY=$(openssl rand -hex 32))"
        )
    SECRET_KEY = "insecure-development-key-only-used-with-DEBUG-on"
elif not DEBUG and SECRET_KEY.startswith(("insecure-", "django-insecure")):
    raise ImproperlyConfigured("SECRET_KEY is a development key; set a real secret when DEBUG is off")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "treatments",
]

MIDDLEWARE = [
    "netcare.logging.RequestIdMiddleware",
    # Outermost but for the request id: every error under /api/ leaves as JSON in the API's error shape.
    "treatments.api.middleware.ApiJsonErrorsMiddleware",
    # CORS for the CDS Hooks paths only; a preflight is answered here.
    "treatments.cds.middleware.CdsCorsMiddleware",
    "netcare.middleware.RefuseChunkedBodyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "netcare.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "netcare.middleware.LoginLockoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "netcare.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "netcare.urls"
WSGI_APPLICATION = "netcare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "treatments.context_processors.netcare",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock when their transaction starts and wait for each other (up to 20 s),
    # instead of failing with "database is locked" when two clinicians save at the same moment.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable server fails the request within seconds (503, netcare/middleware.py) instead of
    # holding a worker for the operating system's TCP timeout. ?connect_timeout= in the URL wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5, minimum=1)
    )
    # A runaway statement is cancelled by the server after this many milliseconds (0: never) and the
    # request answers 503 (security review F1). manage.py gives commands their own limit
    # (DATABASE_COMMAND_STATEMENT_TIMEOUT_MS, none by default). ?options= in the URL wins.
    _statement_timeout = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 5000, minimum=0)
    if _statement_timeout:
        DATABASES["default"]["OPTIONS"].setdefault("options", f"-c statement_timeout={_statement_timeout}")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The lockout backend only refuses (while a username and address are locked out); the model backend
# checks passwords.
AUTHENTICATION_BACKENDS = [
    "netcare.middleware.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed logins before a lockout: per username and client address, and per address for any username.
NETCARE_LOGIN_FAILURES = env_int("NETCARE_LOGIN_FAILURES", 5, minimum=1)
NETCARE_LOGIN_FAILURES_PER_ADDRESS = env_int("NETCARE_LOGIN_FAILURES_PER_ADDRESS", 50, minimum=1)
NETCARE_LOGIN_LOCKOUT_SECONDS = env_int("NETCARE_LOGIN_LOCKOUT_SECONDS", 15 * 60, minimum=1)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    # Development serves files straight from the apps; no collectstatic needed.
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# --- HTTPS, cookies, sessions (docs/deployment.md, "Proxy and TLS") -------------------------------

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Shared ward PCs: a session lasts a working day at most, and ends with the browser by default.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Plain HTTP is redirected to HTTPS in production, except the health checks a load balancer makes
# over plain HTTP inside the network.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 60 * 60, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS: list[str] = []
if not SECURE_HSTS_PRELOAD:
    # Asking browsers to preload the domain is the domain owner's decision, off by default; the
    # deploy check would otherwise warn about it on every start (security.W021).
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# The proxies (comma-separated addresses) in front of the app that terminate TLS and set
# X-Forwarded-Proto and X-Forwarded-For. Only when it is set is X-Forwarded-Proto believed: otherwise
# any client could claim HTTPS. Without a proxy, leave it empty.
NETCARE_TRUSTED_PROXIES = env_list("NETCARE_TRUSTED_PROXIES", [])
if NETCARE_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (netcare/middleware.py): our own scripts, styles and images only.
NETCARE_CSP = env_str("NETCARE_CSP", "")
# Further script sources (e.g. "'sha256-...'" of a script a test harness injects); none in production.
NETCARE_CSP_EXTRA_SCRIPT_SRC: list[str] = []
# Seconds a client is asked to wait (Retry-After) when the database is unreachable (503).
NETCARE_RETRY_AFTER_SECONDS = env_int("NETCARE_RETRY_AFTER_SECONDS", 30, minimum=1)

# The compiled rule set is cached per process and re-checked against the database at most this
# often, so a newly published rule set reaches every worker without a restart.
NETCARE_RULESET_RECHECK_SECONDS = env_int("NETCARE_RULESET_RECHECK_SECONDS", 5, minimum=0)
NETCARE_KNOWLEDGE_BASE = BASE_DIR / "fixtures" / "knowledge_base.yaml"
# Rule governance (docs/rule-governance.md): approvals a draft needs (two for a major bump), whether
# new or changed rules of unverified sources block publication, and how many stored cases an impact
# report evaluates within a request (more: `manage.py ruleset_impact`).
NETCARE_RULESET_MIN_APPROVALS = env_int("NETCARE_RULESET_MIN_APPROVALS", 1, minimum=1)
NETCARE_BLOCK_UNVERIFIED_RULES = env_bool("NETCARE_BLOCK_UNVERIFIED_RULES", False)
NETCARE_IMPACT_MAX_CASES = env_int("NETCARE_IMPACT_MAX_CASES", 20_000, minimum=1)

# --- Background tasks (docs/adr/0008-shared-state-on-redis-and-tasks-with-django-tasks.md) ---------
# Slow work (meeting packs) runs as a django-tasks task. "database": queued in PostgreSQL/SQLite and
# run by `make worker` (manage.py db_worker), so it never depends on gunicorn's worker timeout;
# "immediate": run inside the request, for development and the tests, needing no worker.
TASK_BACKEND = env_str("TASK_BACKEND", "immediate" if DEBUG else "database").strip().lower()
_TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
if TASK_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"TASK_BACKEND={TASK_BACKEND!r} is not a task backend: use database or immediate"
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASK_BACKEND], "QUEUES": ["default"]}}
# A meeting of more cases than this gets its pack from the background task only, with its progress
# on the meeting page: a sheet not yet cached takes about half a second of CPU, so a direct download
# of a large pack would keep a web worker (and the user) waiting, and risk gunicorn's timeout.
NETCARE_PACK_DIRECT_MAX_CASES = env_int("NETCARE_PACK_DIRECT_MAX_CASES", 5, minimum=0)
# Prepared packs hold patient data: they are deleted this many hours after they were made.
NETCARE_PACK_KEEP_HOURS = env_int("NETCARE_PACK_KEEP_HOURS", 24, minimum=1)
# The task worker lays out a pack's uncached case sheets on this many processes (forked for the pack,
# then gone). Layout is CPU-bound: more processes than free cores only adds contention.
NETCARE_PACK_PROCESSES = env_int("NETCARE_PACK_PROCESSES", min(2, os.cpu_count() or 1), minimum=1)
# Lay out a case's sheet for its coming meetings in the background when it is evaluated or added to
# a meeting, so that the pack finds it cached. Off by default with the immediate backend: there it
# would lay out the PDF inside the request that evaluated the case.
NETCARE_SHEETS_AHEAD = env_bool("NETCARE_SHEETS_AHEAD", TASK_BACKEND != "immediate")


def patient_info_url(raw: str) -> str:
    """NETCARE_PATIENT_INFO_URL checked: empty, or an https:// address whose only placeholder is
    {modality} (the option's key), e.g. https://trust.example/net/{modality}."""
    import string

    if not raw:
        return ""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(raw) if name is not None}
    except ValueError as exc:
        raise ImproperlyConfigured(f"NETCARE_PATIENT_INFO_URL={raw!r}: {exc}") from exc
    if not re.fullmatch(r"https://\S+", raw) or names - {"modality"}:
        raise ImproperlyConfigured(
            f"NETCARE_PATIENT_INFO_URL={raw!r} is not an https:// address with at most {{modality}} in it"
        )
    return raw


# The unit's patient-information page for each option, linked from the patient options sheet when a
# modality of the knowledge base has no page of its own (`patient_page_url`). Empty: no link.
NETCARE_PATIENT_INFO_URL = patient_info_url(env_str("NETCARE_PATIENT_INFO_URL", "").strip())

# --- REST API ------------------------------------------------------------------------------------

# How long a checked API token is trusted without a database lookup (see treatments/api/authentication.py).
NETCARE_TOKEN_CACHE_SECONDS = env_int("TOKEN_CACHE_SECONDS", 30, minimum=0)
NETCARE_API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 2_000_000, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = NETCARE_API_MAX_BODY_BYTES
# A batch whose answer would be larger is refused with 413 (a full answer is about 100 kB a profile).
NETCARE_API_BATCH_MAX_RESPONSE_BYTES = env_int("API_BATCH_MAX_RESPONSE_BYTES", 10_000_000, minimum=100_000)

# --- FHIR input (docs/fhir.md) ---------------------------------------------------------------------

# Bundles may be larger than other API bodies; these limits hold for the FHIR endpoints and pages only.
NETCARE_FHIR_MAX_BYTES = env_int("FHIR_MAX_BYTES", 5_000_000, minimum=1024)
NETCARE_FHIR_MAX_ENTRIES = env_int("FHIR_MAX_ENTRIES", 5000, minimum=1)
# Freshness windows in days, by fact (or "m0_negatives", "assessment"); what is not listed keeps the
# mapping's default (treatments/fhir/mapping.py DEFAULT_MAX_AGE_DAYS). Clinical lead to confirm.
# FHIR_MAX_AGE_DAYS="platelets_10e9_l=14,ecog=60" overrides some; "=none" removes a limit.


def _max_age_days(items: list[str]) -> dict[str, int | None]:
    """FHIR_MAX_AGE_DAYS items "fact=days" ("=none": no limit); a typo would silently keep the
    default window, so a name that is no fact of the contract (nor m0_negatives, assessment) stops
    start-up, as does a number of days that is not a whole number from 0."""
    from treatments.rules.profile import FACT_NAMES  # pure data and pydantic, no Django models

    windows: dict[str, int | None] = {}
    for item in items:
        name, equals, days = (part.strip() for part in item.partition("="))
        known = name in FACT_NAMES or name in ("m0_negatives", "assessment")
        if not (known and equals and (days.lower() == "none" or (days.isascii() and days.isdigit()))):
            raise ImproperlyConfigured(
                f"FHIR_MAX_AGE_DAYS item {item!r} is not fact=days (a whole number of days, or none) "
                "with a fact of the contract, m0_negatives or assessment"
            )
        windows[name] = None if days.lower() == "none" else int(days)
    return windows


NETCARE_FHIR_MAX_AGE_DAYS = _max_age_days(env_list("FHIR_MAX_AGE_DAYS", []))
# Conflict rules: Ki-67 values in different bands (WHO 2019: < 3, 3-20, > 20 %) are a conflict.
NETCARE_FHIR_KI67_BAND_LIMITS = (3.0, 20.0)
NETCARE_FHIR_COMBINATION_WINDOW_DAYS = env_int("FHIR_COMBINATION_WINDOW_DAYS", 28, minimum=0)
NETCARE_FHIR_NEW_DIAGNOSIS_DAYS = env_int("FHIR_NEW_DIAGNOSIS_DAYS", 90, minimum=0)
NETCARE_FHIR_OLD_PATHOLOGY_YEARS = env_int("FHIR_OLD_PATHOLOGY_YEARS", 3, minimum=1)


def _procedure_codes(items: list[str]) -> dict[str, str]:
    """FHIR_PROCEDURE_CODES: the unit's local procedure value set (docs/fhir.md 3.3), as
    "system|code=modality" items, e.g. "http://snomed.info/sct|123456789=liver_embolisation": a
    completed Procedure with that code gives that prior therapy."""
    from treatments.rules.vocabulary import MODALITY_KEYS  # pure data, no Django models

    codes: dict[str, str] = {}
    for item in items:
        coding, _, modality = (part.strip() for part in item.rpartition("="))
        system, bar, code = coding.partition("|")
        if not (system and bar and code.strip()) or modality not in MODALITY_KEYS:
            raise ImproperlyConfigured(
                f"FHIR_PROCEDURE_CODES item {item!r} is not system|code=modality with a modality key "
                "of the contract (e.g. http://snomed.info/sct|123456789=liver_embolisation)"
            )
        codes[f"{system.strip()}|{code.strip()}"] = modality
    return codes


NETCARE_FHIR_PROCEDURE_CODES = _procedure_codes(env_list("FHIR_PROCEDURE_CODES", []))


def _rate(name: str, default: str) -> str:
    value = env_str(name, default)
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate like 600/min (units: s, min, hour, day)")
    return value


REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an unauthenticated call gets 401 with `WWW-Authenticate: Token`.
        "treatments.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["treatments.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["treatments.api.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "treatments.api.negotiation.SimpleNegotiation",
    "DEFAULT_THROTTLE_CLASSES": [
        "treatments.api.throttling.AnonThrottle",
        "treatments.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": _rate("API_THROTTLE_ANON", "60/min"),
        "user": _rate("API_THROTTLE_USER", "1200/min"),
    },
    "EXCEPTION_HANDLER": "treatments.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # The anonymous rate limit counts per client address: X-Forwarded-For is used only behind the
    # configured proxies (0: REMOTE_ADDR), so a client cannot pick a new identity per request.
    "NUM_PROXIES": len(NETCARE_TRUSTED_PROXIES),
}
# API tokens (treatments/services/tokens.py): lifetime of a new token, and requests to the token
# endpoint per username and client address.
NETCARE_API_TOKEN_DAYS = env_int("API_TOKEN_DAYS", 30, minimum=1)
NETCARE_TOKEN_THROTTLE = _rate("API_THROTTLE_TOKEN", "10/min")

# --- Shared state: the cache (docs/deployment.md, "Several processes or servers") ----------------
# API throttles, login failures, the token cache and the rule-set version stamp live in Django's
# cache. With REDIS_URL every process and server shares them; without it each process keeps its own
# in memory, which is right for one process and needs no server.
REDIS_URL = env_url("REDIS_URL", ("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Several deployments (or test runs) may share one Redis: each keeps to its own keys.
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "netcare"),
            # A Redis that stops answering fails the request within seconds instead of holding a worker.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "netcare"}}
# With a shared cache, a publication is announced there and every process picks it up on its next
# request (treatments/selectors/ruleset.py); without one, NETCARE_RULESET_RECHECK_SECONDS applies.
NETCARE_RULESET_BROADCAST = bool(REDIS_URL)

SPECTACULAR_SETTINGS = {
    "TITLE": "NETcare API",
    "DESCRIPTION": (
        "Which neuroendocrine-tumour treatment options is a patient eligible for, and why. "
        "Every fact is optional: absent or null means unknown, never false. "
        "Decision support for the MDT; not medical advice. "
        "This is /api/v2/ (contract 1.2); /api/v1/ is deprecated (sunset 2027-06-30), its document "
        "is served unchanged at /api/schema/."
    ),
    "VERSION": "2.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ModalityKeyEnum": "treatments.rules.profile.MODALITY_KEYS",
        "FactNameEnum": "treatments.rules.profile.FACT_NAMES",
        "StatusEnum": "treatments.rules.conditions.STATUSES",
        "RuleKindEnum": "treatments.rules.engine.RULE_KINDS",
        "CategoryEnum": "treatments.rules.document.CATEGORY_LABELS",
        "VerificationEnum": "treatments.rules.document.VERIFICATIONS",
        "CaseStatusEnum": "treatments.rules.vocabulary.CASE_STATUSES",
        "RuleSetStatusEnum": "treatments.rules.vocabulary.RULE_SET_STATUSES",
        "OutcomeEnum": "treatments.rules.engine.OUTCOMES",
        "MdtRoleEnum": "treatments.rules.vocabulary.MDT_ROLES",
    },
    # The generated document is v2's; v1's is the saved file (treatments/api/openapi/v1.yaml).
    "PREPROCESSING_HOOKS": ["treatments.api.schema_hooks.only_v2"],
    "SCHEMA_PATH_PREFIX": "/api/v2",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "treatments.api.schema_hooks.document_v1_booleans",
        "treatments.api.schema_hooks.add_error_responses",
    ],
}

# --- CDS Hooks (docs/cds-hooks.md) ----------------------------------------------------------------
# The public URL the EHR calls, ending in /cds-hooks. Each JWT's aud is checked against it (never
# against the request's Host header). Development (DEBUG, `make run`) defaults to the local server;
# in production the CDS service answers 503 until it is set.
CDS_HOOKS_BASE_URL = env_str("CDS_HOOKS_BASE_URL", "http://127.0.0.1:8000/cds-hooks" if DEBUG else "").rstrip(
    "/"
)
if CDS_HOOKS_BASE_URL and not re.fullmatch(r"https?://[^/?#]+/cds-hooks", CDS_HOOKS_BASE_URL):
    raise ImproperlyConfigured(
        f"CDS_HOOKS_BASE_URL={CDS_HOOKS_BASE_URL!r} must be a URL ending in /cds-hooks, "
        "e.g. https://netcare.example.nhs.uk/cds-hooks"
    )
# Where the cards' links point: NETcare's own pages at the same origin.
CDS_HOOKS_APP_URL = CDS_HOOKS_BASE_URL.removesuffix("/cds-hooks")
# Browser-based EHRs allowed to call the CDS endpoints from their pages (CORS); none by default.
CDS_HOOKS_CORS_ORIGINS = env_list("CDS_HOOKS_CORS_ORIGINS", [])
# Calls per client (JWT iss); over it, 429 with Retry-After.
CDS_HOOKS_THROTTLE = _rate("CDS_HOOKS_THROTTLE", "600/min")
CDS_HOOKS_MAX_BODY_BYTES = env_int("CDS_HOOKS_MAX_BODY_BYTES", 5_000_000, minimum=10_000)
# Seconds for one query to an EHR's FHIR server (missing prefetch), and for a JWK Set download.
CDS_HOOKS_FHIR_TIMEOUT_SECONDS = env_int("CDS_HOOKS_FHIR_TIMEOUT_MS", 1500, minimum=100) / 1000
CDS_HOOKS_JWKS_TIMEOUT_SECONDS = 2.0
# One card per candidate option besides the summary card (off: the summary card only).
CDS_OPTION_CARDS = env_bool("CDS_OPTION_CARDS", True)
# Days an EHR call not linked to a case is kept (interop spec B.9); `manage.py cds_purge` deletes older
# ones. Calls linked to a case are kept with the case.
CDS_RETENTION_DAYS = env_int("CDS_RETENTION_DAYS", 90, minimum=1)
# On: feedback on an option card becomes the review of that option at once, when the call is linked to
# a case and the EHR user is linked to a NETcare clinician (interop spec B.8). Off: a clinician records it.
CDS_FEEDBACK_AUTO_REVIEW = env_bool("CDS_FEEDBACK_AUTO_REVIEW", False)

# --- Logs (netcare/logging.py) ---------------------------------------------------------------------
# One JSON object per line with the request id (production), or a readable line (development).
# Never a patient identifier or profile: netcare/logging.py fixes what a line may hold.
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json").strip().lower()
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not a log format: use json or text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "netcare.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "netcare.logging.JsonFormatter"},
        "text": {"()": "netcare.logging.TextFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # WeasyPrint reports every step of a PDF at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Django's own defaults would also write these in plain text (with DEBUG on): one format only.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "py.warnings": {"handlers": ["console"], "propagate": False},
        # Django's request logger would repeat, at WARNING, each 4xx the request line already has.
        "django.request": {"level": "ERROR"},
    },
}
