"""Small typed readers for settings from the environment.

A bad value stops start-up with a message that names the variable, instead of being guessed at.

`load_env_file` reads a local `.env` (KEY=value lines, written by `make run` for development) into
the environment first; a variable already set in the real environment always wins.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use one of true/false, yes/no, 1/0, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, schemes: tuple[str, ...]) -> str:
    """A URL whose scheme is one of `schemes`, or "" when the variable is unset or empty.

    The message names the scheme only: the URL may hold a password.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ""
    scheme = urlsplit(raw).scheme
    if scheme not in schemes or not urlsplit(raw).netloc + urlsplit(raw).path:
        allowed = ", ".join(f"{s}://" for s in schemes)
        raise ImproperlyConfigured(
            f"{name} must be a URL starting with {allowed} (got {scheme or 'no'} scheme)"
        )
    return raw


_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def load_env_file(path: Path | str) -> list[str]:
    """Set the variables of a .env file that the real environment does not set; return their names.

    Lines are `NAME=value` (optionally `export NAME=value`, the value optionally in matching quotes);
    blank lines and `#` comments are skipped. A missing file is no error. A line that is not an
    assignment stops start-up with its line number, as any other bad setting does.
    """
    file = Path(path)
    if not file.is_file():
        return []
    loaded = []
    for number, raw in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ImproperlyConfigured(f"{file}, line {number}: not a NAME=value line")
        name, value = match.groups()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        if name not in os.environ:
            os.environ[name] = value
            loaded.append(name)
    return loaded
