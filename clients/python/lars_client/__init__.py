"""Python client of the lars-ts agent (docs/client.md, "Python")."""
from __future__ import annotations

from .client import CallResult, GetHostResult, Host, LarsClient, RetCode, agent_port, reported_duration_us
from .errors import LarsError, LarsProtocolError, LarsTimeout

__all__ = [
    "CallResult",
    "GetHostResult",
    "Host",
    "LarsClient",
    "LarsError",
    "LarsProtocolError",
    "LarsTimeout",
    "RetCode",
    "agent_port",
    "reported_duration_us",
]
