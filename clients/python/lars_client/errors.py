"""What the client raises: only transport problems; OVERLOAD and NOEXIST are answers (docs/client.md)."""
from __future__ import annotations


class LarsError(Exception):
    """Base of every error of lars_client."""


class LarsTimeout(LarsError):
    """The agent did not answer in time."""


class LarsProtocolError(LarsError):
    """The agent's answer is not a frame this client reads: short, oversize, malformed or of an unexpected msgid."""
