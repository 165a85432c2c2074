"""NETcare's data, by area: the knowledge base, the MDT workflow and the audit trail."""

from .knowledge import *  # noqa: F403
