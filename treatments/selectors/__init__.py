"""Reads: the published rule set, eligibility, the catalogue and the MDT data."""

from .cases import *  # noqa: F403
