"""Jinja2 templates and stylesheets of the audit pack (package data)."""
