"""What every subcommand is handed: where the locker is, which matrix, how to show progress."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditpack.controls.matrix import ControlMatrix, load_matrix
from auditpack.evidence.locker import Locker
from auditpack.evidence.progress import Progress


@dataclass(frozen=True)
class Context:
    locker_dir: Path
    matrix_path: Path | None
    progress: Progress
    locker_given: Path | None = None  # what --locker said, when it said anything

    def open_locker(self, *, create: bool = True) -> Locker:
        return Locker.open(self.locker_dir, create=create)

    def load_matrix(self) -> ControlMatrix:
        return load_matrix(self.matrix_path)
