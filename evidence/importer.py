"""Importing one raw item into the locker: store the blob, parse it, index it, in one step.

Every source (local folder, GitHub, S3) hands its files to these functions with an
`Origin` that says where the bytes came from. A file that cannot be parsed is still kept
(its hash is evidence that something arrived) and is recorded as an evidence gap.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditpack.controls.matrix import ControlMatrix
from auditpack.evidence import actions
from auditpack.evidence.errors import CollectionError, SarifError
from auditpack.evidence.locker import Locker, LockerWriter, StoredBlob
from auditpack.evidence.model import (
    EvidenceGap,
    EvidenceItem,
    GapKind,
    GateId,
    ItemKind,
    Repository,
)
from auditpack.evidence.sarif import SarifDocument, SarifRun, iter_findings, read_sarif

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """Where an item came from, as the manifest will show it."""

    source: str  # a path, an https:// API URL or an s3:// URI
    retrieved_at: datetime
    repository: Repository | None = None
    run_id: int | None = None
    produced_at: datetime | None = None  # when the source made it, if the source says
    version_id: str | None = None
    etag: str | None = None
    object_lock_mode: str | None = None
    object_lock_retain_until: datetime | None = None
    gate: GateId | None = None  # when the source already knows the gate
    classify_path: str | None = None  # the path the matrix's path rules see; source if None
    note: str = ""  # shown beside the item, e.g. that a SARIF is GitHub's subset of an upload
    checksum_sha256: str | None = None  # the store's own checksum, base64 (S3 ChecksumSHA256)


@dataclass(frozen=True)
class ImportResult:
    item_id: int | None
    new: bool
    records: int  # findings, runs or executions indexed
    gap: EvidenceGap | None = None


def import_sarif(
    locker: Locker,
    matrix: ControlMatrix,
    path: Path,
    origin: Origin,
    kind: ItemKind = ItemKind.SARIF,
) -> ImportResult:
    """Store and index one SARIF file (plain or gzipped)."""
    blob = locker.store_file(path)
    existing = locker.item_id(blob.sha256, origin.source, origin.version_id)
    if existing is not None:
        return ImportResult(existing, False, 0)
    try:
        document = read_sarif(locker.blob_path(blob.sha256))
    except SarifError as error:
        # The parser names the blob it read; the user knows the file by its source.
        reason = str(error).replace(str(locker.blob_path(blob.sha256)), origin.source)
        gate = matrix.classify_sarif("", None, origin.classify_path or origin.source)
        return record_malformed(locker, origin, reason, gate=gate, unreadable=(blob, kind))
    gates = {run.index: _gate_of(matrix, run, origin) for run in document.runs}
    secret_gates = {gate.id for gate in matrix.gates if gate.secrets}
    produced = _latest([run.ended_at for run in document.runs]) or origin.produced_at
    # Reports show only a redacted copy of a secret scanner's output that found something.
    redacted = any(gates[run.index] in secret_gates and run.result_count for run in document.runs)
    item = evidence_item(blob, kind, origin, produced, _main_gate(gates), redacted)
    with locker.transaction() as writer:
        item_id, new = writer.add_item(item)
        if not new:
            return ImportResult(item_id, False, 0)
        for run in document.runs:
            writer.add_sarif_run(
                item_id,
                run.index,
                run.tool,
                run.tool_version,
                run.category,
                gates[run.index],
                run.rule_count,
            )
        rows = (
            (index, gates[index], finding)
            for index, finding in iter_findings(
                document, secret_scanning=lambda run: gates[run.index] in secret_gates
            )
        )
        count = writer.add_findings(item_id, rows)
        writer.resolve_gaps(origin.source)
    _warn_unclassified(locker, document, gates, origin)
    return ImportResult(item_id, True, count)


def import_run_listing(locker: Locker, path: Path, origin: Origin) -> ImportResult:
    """Store and index a REST listing of workflow runs (`{"workflow_runs": [...]}`)."""

    def index(writer: LockerWriter, item_id: int, document: Any) -> int:
        return writer.add_runs(item_id, actions.runs_from_listing(document))

    return _import_json(locker, path, origin, ItemKind.WORKFLOW_RUNS, index)


def import_job_listing(
    locker: Locker, matrix: ControlMatrix, path: Path, origin: Origin
) -> ImportResult:
    """Store and index a REST listing of a run's jobs (`{"jobs": [...]}`)."""

    def index(writer: LockerWriter, item_id: int, document: Any) -> int:
        executions = actions.executions_from_jobs(document, matrix, origin.repository)
        return writer.add_executions(item_id, executions)

    return _import_json(locker, path, origin, ItemKind.WORKFLOW_JOBS, index)


Indexer = Callable[[LockerWriter, int, Any], int]


def _import_json(
    locker: Locker, path: Path, origin: Origin, kind: ItemKind, index: Indexer
) -> ImportResult:
    blob = locker.store_file(path)
    existing = locker.item_id(blob.sha256, origin.source, origin.version_id)
    if existing is not None:
        return ImportResult(existing, False, 0)
    try:
        document = json.loads(locker.blob_path(blob.sha256).read_bytes().decode("utf-8-sig"))
        produced = origin.produced_at or actions.listing_time(document)
        item = evidence_item(blob, kind, origin, produced, origin.gate, False)
        with locker.transaction() as writer:
            item_id, new = writer.add_item(item)
            count = index(writer, item_id, document) if new else 0
            writer.resolve_gaps(origin.source)
    except (ValueError, CollectionError) as error:
        reason = f"{origin.source}: {_one_line(error)}"
        return record_malformed(locker, origin, reason, unreadable=(blob, kind))
    return ImportResult(item_id, new, count)


def _gate_of(matrix: ControlMatrix, run: SarifRun, origin: Origin) -> GateId | None:
    path = origin.classify_path or origin.source
    return matrix.classify_sarif(run.tool, run.category, path, run.property_keys) or origin.gate


def _main_gate(gates: dict[int, GateId | None]) -> GateId | None:
    found = [gate for gate in gates.values() if gate is not None]
    return found[0] if found else None


def evidence_item(
    blob: StoredBlob,
    kind: ItemKind,
    origin: Origin,
    produced_at: datetime | None,
    gate: GateId | None,
    redacted: bool,
) -> EvidenceItem:
    return EvidenceItem(
        sha256=blob.sha256,
        kind=kind,
        source=origin.source,
        produced_at=produced_at or origin.retrieved_at,
        retrieved_at=origin.retrieved_at,
        size=blob.size,
        gate=gate,
        repository=origin.repository,
        run_id=origin.run_id,
        version_id=origin.version_id,
        etag=origin.etag,
        object_lock_mode=origin.object_lock_mode,
        object_lock_retain_until=origin.object_lock_retain_until,
        redacted=redacted,
        checksum_sha256=origin.checksum_sha256,
        note=origin.note,
    )


def _latest(moments: list[datetime | None]) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def record_malformed(
    locker: Locker,
    origin: Origin,
    reason: str,
    *,
    source: str | None = None,
    gate: GateId | None = None,
    unreadable: tuple[StoredBlob, ItemKind] | None = None,
) -> ImportResult:
    """An item, or a part of one (`source`), that could not be read: a gap in the pack.

    With `unreadable`, the file itself is indexed too (kept, never parsed), so that the
    manifest shows the hash of exactly what arrived beside the gap it left.
    """
    gap = EvidenceGap(
        kind=GapKind.MALFORMED,
        source=source or origin.source,
        reason=_one_line(reason),
        recorded_at=datetime.now(UTC),
        gate=gate or origin.gate,
        repository=origin.repository,
        run_id=origin.run_id,
    )
    item_id = None
    with locker.transaction() as writer:
        if unreadable is not None:
            blob, kind = unreadable
            note = f"unreadable: {gap.reason}"
            unread = replace(origin, note=note)
            item = evidence_item(blob, kind, unread, origin.produced_at, gap.gate, False)
            item_id, _ = writer.add_item(item)
        writer.add_gap(gap)
    log.warning("%s", gap.reason)
    return ImportResult(item_id, item_id is not None, 0, gap)


def _warn_unclassified(
    locker: Locker, document: SarifDocument, gates: dict[int, GateId | None], origin: Origin
) -> None:
    for run in document.runs:
        if gates[run.index] is None:
            gap = EvidenceGap(
                kind=GapKind.UNCLASSIFIED,
                source=f"{origin.source}#run{run.index}",
                reason=(
                    f"{origin.source}: SARIF run {run.index} from tool {run.tool or '(unnamed)'!r} "
                    "matches no gate in the control matrix; add a classify rule for it"
                ),
                recorded_at=datetime.now(UTC),
                repository=origin.repository,
            )
            with locker.transaction() as writer:
                writer.add_gap(gap)
            log.warning("%s", gap.reason)


def _one_line(error: object) -> str:
    return " ".join(str(error).split())
