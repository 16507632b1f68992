"""Reports: the audit pack, as PDF and JSON."""
