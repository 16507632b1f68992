"""Progress on stderr with rich: the only place that knows how progress looks."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

stderr = Console(stderr=True, highlight=False)


class RichProgress:
    """One bar per task name, plus a status line (rate-limit waits, current source)."""

    def __init__(self, console: Console = stderr) -> None:
        self._bars = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            console=console,
            transient=False,
            disable=not console.is_terminal,
        )
        self._tasks: dict[str, TaskID] = {}
        self._status = self._bars.add_task("", total=None, note="", visible=False)
        self._console = console

    def __enter__(self) -> RichProgress:
        self._bars.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._bars.stop()

    def advance(self, task: str, amount: int = 1, total: int | None = None) -> None:
        if task not in self._tasks:
            self._tasks[task] = self._bars.add_task(task, total=total, note="")
        task_id = self._tasks[task]
        if total is not None:
            self._bars.update(task_id, total=total)
        self._bars.advance(task_id, amount)

    def status(self, text: str) -> None:
        self._bars.update(self._status, description=text, visible=bool(text))
        if not self._console.is_terminal and text:
            self._console.print(text)
