"""Settings for pytest: the same app, with unhashed static files and a fast password hasher."""

import os

# The tests never read a developer's .env (written by `make run`): their settings are their own.
# Processes the tests start inherit this too.
os.environ["NETCARE_ENV_FILE"] = ""
os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
# The test client speaks plain HTTP; the HTTPS redirect has its own tests.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# Generous rate limits, so that property-based API runs are not throttled; the throttling tests
# lower them explicitly.
os.environ.setdefault("API_THROTTLE_ANON", "100000/min")
os.environ.setdefault("API_THROTTLE_USER", "100000/min")
os.environ.setdefault("API_THROTTLE_TOKEN", "100000/min")
os.environ.setdefault("NETCARE_LOGIN_FAILURES", "100000")
os.environ.setdefault("NETCARE_LOGIN_FAILURES_PER_ADDRESS", "100000")
# Creating and dropping test databases on a busy shared server can outlast production's 5 s
# statement timeout; the tests of the timeout set their own.
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT_MS", "60000")
# The CDS Hooks service as the test client calls it (JWT aud = this URL + the path).
os.environ.setdefault("CDS_HOOKS_BASE_URL", "http://testserver/cds-hooks")
os.environ.setdefault("CDS_HOOKS_THROTTLE", "100000/min")
# Look tokens up on every request, so each test sees its own database; the cache has its own tests.
os.environ.setdefault("TOKEN_CACHE_SECONDS", "0")
# REDIS_URL (exported by `make test`) is for the Redis-marked tests only, which pass it on
# explicitly; neither this process nor the processes other tests start use a shared server.
os.environ.setdefault("NETCARE_TEST_REDIS_URL", os.environ.pop("REDIS_URL", ""))

from .settings import *  # noqa: E402,F403
from .settings import BASE_DIR, DATABASES, STORAGES  # noqa: E402

# Belt and braces for the above: the suite's own cache is per process (tests clear it).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "netcare"}}
REDIS_URL = ""
NETCARE_RULESET_BROADCAST = False
# Tasks run inside the request; the worker test (tests/test_scale_tasks.py) starts a real db_worker.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default"]}}

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# Serve static files straight from the apps (no collectstatic), also to the live server of the
# browser tests.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not shared-cache memory: concurrent writers then wait for each other as in production,
    # where in-memory SQLite fails them at once with "database table is locked".
    import tempfile

    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"netcare-test-{os.getpid()}.sqlite3")
    }
else:
    # One test database per pytest process: checkouts sharing a server must not drop each other's.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}


def injected_script_hash(path: str) -> list[str]:
    """The CSP hash of a script as Playwright's add_script_tag(path=...) injects it (the file plus
    a sourceURL comment), so that the browser tests can run axe-core under the real policy."""
    import base64
    import hashlib
    from pathlib import Path

    file = Path(path)
    if not file.is_file():
        return []
    script = file.read_text(encoding="utf-8") + "\n//# sourceURL=" + str(file).replace("\n", "")
    return ["'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"]


# axe-core, which tests/browser injects into every page it audits (tests/browser/conftest.py).
NETCARE_CSP_EXTRA_SCRIPT_SRC = injected_script_hash(
    str(BASE_DIR / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js")
)
