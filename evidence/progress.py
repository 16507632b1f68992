"""How long-running domain work reports progress, without knowing who displays it."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """The CLI shows these on stderr with rich; tests and library callers may ignore them."""

    def advance(self, task: str, amount: int = 1, total: int | None = None) -> None:
        """`amount` more units of `task` are done; `total` when it becomes known."""

    def status(self, text: str) -> None:
        """A one-line state, such as a rate-limit wait with its remaining time."""


class NoProgress:
    def advance(self, task: str, amount: int = 1, total: int | None = None) -> None:
        return None

    def status(self, text: str) -> None:
        return None
