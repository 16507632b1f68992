"""auditpack: turn the security gates a team already runs in CI into audit evidence."""

__version__ = "0.1.0"
