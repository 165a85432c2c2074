"""Forms of the pages; each write form feeds the pydantic input model the API validates with."""

from .facts import *  # noqa: F403
