"""The one exception family of rendering and verifying packs."""


class RenderError(Exception):
    """A pack could not be built or written; the message says what and how to fix it."""
