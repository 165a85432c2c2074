"""tests/rules: the pure engine, which knows nothing of Django's database. A test here that asks for
one fails at once, with the place it belongs."""

from __future__ import annotations

import pytest

_DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "published", "no_knowledge_base"}


@pytest.fixture(autouse=True)
def _no_database(request: pytest.FixtureRequest) -> None:
    wants = _DATABASE_FIXTURES & set(request.fixturenames)
    if request.node.get_closest_marker("django_db") is not None or wants:
        pytest.fail(
            "tests/rules tests the pure engine without a database "
            f"({', '.join(sorted(wants)) or 'django_db marker'}): move this test to tests/services, "
            "tests/api or tests/pages",
            pytrace=False,
        )
