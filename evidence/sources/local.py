"""Evidence from a local folder: SARIF files, saved GitHub Actions listings, Falco events.

This is also the path for air-gapped teams and other CI systems: export the files, point
auditpack at the folder. Conventions, all optional:
  - a folder named by digits only (`runs/1234567/trivy.sarif`) gives the run id that
    produced the files below it, so that findings can be checked against the gate's outcome;
  - `--repo OWNER/NAME` names the repository of files that do not say it themselves.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from auditpack.controls.matrix import ControlMatrix
from auditpack.evidence.errors import CollectionError
from auditpack.evidence.falco import import_falco
from auditpack.evidence.importer import (
    ImportResult,
    Origin,
    import_job_listing,
    import_run_listing,
    import_sarif,
)
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import Repository
from auditpack.evidence.progress import NoProgress, Progress

log = logging.getLogger(__name__)

SARIF_SUFFIXES = (".sarif", ".sarif.json", ".sarif.gz", ".sarif.json.gz")
FALCO_SUFFIXES = (".jsonl", ".jsonl.gz")  # Falco json_output, one event a line
_PEEK_BYTES = 4096


@dataclass(frozen=True)
class LocalSummary:
    files: int
    new_items: int
    already_held: int
    gaps: int
    ignored: int
    records: Counter[str]


def collect_local(
    locker: Locker,
    matrix: ControlMatrix,
    folder: Path,
    repository: Repository | None = None,
    progress: Progress | None = None,
) -> LocalSummary:
    """Import every SARIF file and Actions listing below `folder`; the rest is ignored."""
    progress = progress or NoProgress()
    if not folder.is_dir():
        raise CollectionError(f"{folder}: not a folder")
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    new = held = gaps = ignored = 0
    records: Counter[str] = Counter()
    for path in files:
        result, kind = _import_one(locker, matrix, folder, path, repository)
        progress.advance("files", total=len(files))
        if result is None:
            ignored += 1
            continue
        new += result.new
        held += result.item_id is not None and not result.new
        gaps += result.gap is not None
        records[kind] += result.records
    return LocalSummary(len(files), new, held, gaps, ignored, records)


def _import_one(
    locker: Locker,
    matrix: ControlMatrix,
    folder: Path,
    path: Path,
    repository: Repository | None,
) -> tuple[ImportResult | None, str]:
    origin = Origin(
        source=str(path.resolve()),
        retrieved_at=datetime.now(UTC),
        repository=repository,
        run_id=_run_id(folder, path),
        produced_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
        classify_path=str(path.relative_to(folder)),
    )
    name = path.name.lower()
    if name.endswith(SARIF_SUFFIXES):
        return import_sarif(locker, matrix, path, origin), "findings"
    if name.endswith(FALCO_SUFFIXES):
        return import_falco(locker, matrix, path, _without_file_time(origin)), "runtime events"
    if not name.endswith(".json"):
        return None, ""
    shape = _json_shape(path)
    if shape == "workflow_runs":
        return import_run_listing(locker, path, _without_file_time(origin)), "runs"
    if shape == "jobs":
        return import_job_listing(locker, matrix, path, _without_file_time(origin)), "executions"
    if shape == "sarif":
        return import_sarif(locker, matrix, path, origin), "findings"
    log.info("%s: not SARIF or an Actions listing; ignored", path)
    return None, ""


def _without_file_time(origin: Origin) -> Origin:
    """A listing says when its runs happened; the file's own time says nothing about them."""
    return Origin(
        source=origin.source,
        retrieved_at=origin.retrieved_at,
        repository=origin.repository,
        run_id=origin.run_id,
        classify_path=origin.classify_path,
    )


def _run_id(folder: Path, path: Path) -> int | None:
    for part in reversed(path.relative_to(folder).parts[:-1]):
        if part.isdigit():
            return int(part)
    return None


def _json_shape(path: Path) -> str:
    """Tell listings from SARIF by the first keys, without reading a large file whole."""
    with open(path, "rb") as stream:
        head = stream.read(_PEEK_BYTES).decode("utf-8-sig", errors="replace")
    for key in ("workflow_runs", "jobs"):
        if f'"{key}"' in head:
            return key
    if '"runs"' in head or ('"$schema"' in head and "sarif" in head):
        return "sarif"
    return ""
