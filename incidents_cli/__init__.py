"""incidents: incidents, runbooks and postmortems as code, in git."""

from __future__ import annotations

__version__ = "0.1.0"
