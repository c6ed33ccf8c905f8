"""The one face of allotment: an `Engine` (database, runner, clock) and its tenant sessions
(`engine.tenant(org, env)`), shared by the embedded API, the HTTP server and the CLI."""

from allotment.session.engine import Engine
from allotment.session.tenant import Tenant

__all__ = ["Engine", "Tenant"]
