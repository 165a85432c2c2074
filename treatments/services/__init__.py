"""Writes: every change to clinical data goes through one of these functions."""

from .cases import *  # noqa: F403
from .knowledge import *  # noqa: F403
