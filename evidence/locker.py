"""The evidence locker: raw items stored once by SHA-256, and an SQLite index of what they say.

Layout of a locker folder:
    blobs/ab/abcdef...   each raw item, named by its SHA-256, written once and never changed
    tmp/                 partial writes; a blob is renamed into blobs/ only when complete
    index.sqlite         items, findings, runs, gate executions, gaps, collection state

A blob is always in place before any index row names it, and every import writes its rows
in one transaction: an import cut short at any point leaves either nothing or everything
in the index, and at worst an unreferenced blob that the next import of the same file reuses.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from auditpack.evidence.errors import LockerError
from auditpack.evidence.model import (
    EvidenceGap,
    EvidenceItem,
    FalcoEvent,
    Finding,
    GapKind,
    GateExecution,
    GateId,
    ItemKind,
    Location,
    Outcome,
    Repository,
    Severity,
    Sha256,
    WorkflowRun,
    WorkflowVersion,
)

SCHEMA_VERSION = 3
_CHUNK = 1 << 20
_SCHEMA = Path(__file__).with_name("locker_schema.sql")
# Schema 2 only added tables: a schema-1 locker is upgraded by running what follows this line.


def to_db_time(moment: datetime | None) -> str | None:
    """Store times as UTC ISO 8601 with microseconds, so that text order is time order."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: evidence times must carry a zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _required_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class StoredBlob:
    sha256: Sha256
    size: int


@dataclass(frozen=True)
class Population:
    """A population as its source reported it: the query, when, and the counts that reconcile."""

    name: str
    source: str
    query: str
    extracted_at: datetime
    count: int
    source_count: int | None


class Locker:
    """One evidence locker folder. Open it with `Locker.open(path)`."""

    def __init__(self, root: Path, connection: sqlite3.Connection) -> None:
        self.root = root
        self._db = connection

    @classmethod
    def open(cls, root: Path, *, create: bool = True) -> Locker:
        root = Path(root)
        index = root / "index.sqlite"
        if not index.exists() and not create:
            raise LockerError(f"{root}: no evidence locker here (run `auditpack collect` first)")
        (root / "blobs").mkdir(parents=True, exist_ok=True)
        (root / "tmp").mkdir(exist_ok=True)
        connection = sqlite3.connect(index, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        locker = cls(root, connection)
        locker._migrate()
        return locker

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Locker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        """Bring a locker to this schema: the script is cumulative, each step after a marker."""
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if not 0 <= version < SCHEMA_VERSION:
            raise LockerError(
                f"{self.root}: locker schema {version}, this auditpack reads {SCHEMA_VERSION}"
            )
        script = _SCHEMA.read_text(encoding="utf-8")
        if version > 0:
            script = script[script.index(f"-- Added in schema {version + 1}") :]
        self._db.executescript(script)
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # Blobs ------------------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        return self.root / "blobs" / sha256[:2] / sha256

    def has_blob(self, sha256: str) -> bool:
        return self.blob_path(sha256).exists()

    def store_stream(self, stream: IO[bytes]) -> StoredBlob:
        """Copy a stream into the locker, hashing as it goes; the blob appears only when whole."""
        digest = hashlib.sha256()
        size = 0
        handle, tmp_name = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := stream.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = Sha256(digest.hexdigest())
            final = self.blob_path(sha)
            if final.exists():
                os.unlink(tmp_name)
            else:
                final.parent.mkdir(exist_ok=True)
                os.chmod(tmp_name, 0o444)
                os.replace(tmp_name, final)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
        return StoredBlob(sha, size)

    def store_file(self, path: Path) -> StoredBlob:
        with open(path, "rb") as stream:
            return self.store_stream(stream)

    def store_bytes(self, data: bytes) -> StoredBlob:
        sha = Sha256(hashlib.sha256(data).hexdigest())
        final = self.blob_path(sha)
        if not final.exists():
            final.parent.mkdir(exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root / "tmp", delete=False) as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(out.name, 0o444)
            os.replace(out.name, final)
        return StoredBlob(sha, len(data))

    def copy_blob(self, sha256: str, destination: Path) -> None:
        shutil.copyfile(self.blob_path(sha256), destination)

    # Writing ----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[LockerWriter]:
        """All rows written inside land together or not at all."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield LockerWriter(self._db)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # Reading ----------------------------------------------------------------------------

    def item_id(self, sha256: str, source: str, version_id: str | None = None) -> int | None:
        row = self._db.execute(
            "SELECT id FROM items WHERE sha256 = ? AND source = ? AND version_id IS ?",
            (sha256, source, version_id),
        ).fetchone()
        return None if row is None else int(row["id"])

    def items_from(self, source: str) -> list[EvidenceItem]:
        rows = self._db.execute("SELECT * FROM items WHERE source = ? ORDER BY id", (source,))
        return [_item(row) for row in rows]

    def items(self) -> list[EvidenceItem]:
        return [_item(row) for row in self._db.execute("SELECT * FROM items ORDER BY id")]

    def item_rows(self) -> list[tuple[int, EvidenceItem]]:
        rows = self._db.execute("SELECT * FROM items ORDER BY id")
        return [(int(row["id"]), _item(row)) for row in rows]

    def findings(self) -> Iterator[tuple[int, GateId | None, Finding]]:
        """Every finding with the id of the item it came from and its run's gate."""
        for row in self._db.execute("SELECT * FROM findings ORDER BY id"):
            yield int(row["item_id"]), row["gate"], _finding(row)

    def runs(self) -> list[WorkflowRun]:
        rows = self._db.execute("SELECT * FROM runs ORDER BY repository, run_id, attempt")
        return [_run(row) for row in rows]

    def executions(self) -> list[GateExecution]:
        return [execution for _, execution in self.execution_rows()]

    def execution_rows(self) -> list[tuple[int, GateExecution]]:
        """Gate executions with the id of the job listing each came from."""
        rows = self._db.execute(
            "SELECT * FROM executions ORDER BY repository, run_id, attempt, job_id, step_name"
        )
        return [(int(row["item_id"]), _execution(row)) for row in rows]

    def findings_of(self, item_id: int) -> list[tuple[int, Finding]]:
        """The findings of one item, each with the index of its SARIF run."""
        rows = self._db.execute("SELECT * FROM findings WHERE item_id = ? ORDER BY id", (item_id,))
        return [(int(row["run_index"]), _finding(row)) for row in rows]

    def gaps(self) -> list[EvidenceGap]:
        return [_gap(row) for row in self._db.execute("SELECT * FROM gaps ORDER BY id")]

    def populations(self) -> list[Population]:
        rows = self._db.execute("SELECT * FROM populations ORDER BY name")
        return [_population(row) for row in rows]

    def sarif_runs(self) -> list[sqlite3.Row]:
        return list(self._db.execute("SELECT * FROM sarif_runs ORDER BY item_id, run_index"))

    def checkpoint(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM checkpoints WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def falco_events(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> list[tuple[int, FalcoEvent]]:
        """Falco events in [start, end), by time, with the id of the item each came from."""
        rows = self._db.execute(
            """SELECT * FROM falco_events WHERE time >= ? AND time < ? ORDER BY time, id""",
            (to_db_time(start) or "", to_db_time(end) or "~"),
        )
        return [(int(row["item_id"]), _falco_event(row)) for row in rows]

    def workflow_versions(self, repository: str | None = None) -> list[WorkflowVersion]:
        """Workflow file versions, by repository, path and commit time."""
        rows = self._db.execute(
            """SELECT * FROM workflow_versions WHERE ? IS NULL OR repository = ?
               ORDER BY repository, path, committed_at, commit_sha""",
            (repository, repository),
        )
        return [_workflow_version(row) for row in rows]

    def query(self, sql: str, parameters: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Read-only access for reports and collectors that need their own view."""
        return list(self._db.execute(sql, tuple(parameters)))


class LockerWriter:
    """Rows written inside one `Locker.transaction()`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def add_item(self, item: EvidenceItem) -> tuple[int, bool]:
        """Record an item; returns its id and whether it was new. Same blob, source and version:
        the existing row."""
        row = self._db.execute(
            "SELECT id FROM items WHERE sha256 = ? AND source = ? AND version_id IS ?",
            (item.sha256, item.source, item.version_id),
        ).fetchone()
        if row is not None:
            return int(row["id"]), False
        cursor = self._db.execute(
            """INSERT INTO items (sha256, kind, source, produced_at, retrieved_at, size, gate,
                   repository, run_id, version_id, etag, object_lock_mode,
                   object_lock_retain_until, redacted, note, checksum_sha256)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                item.sha256,
                item.kind.value,
                item.source,
                to_db_time(item.produced_at),
                to_db_time(item.retrieved_at),
                item.size,
                item.gate,
                item.repository,
                item.run_id,
                item.version_id,
                item.etag,
                item.object_lock_mode,
                to_db_time(item.object_lock_retain_until),
                int(item.redacted),
                item.note,
                item.checksum_sha256,
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid, True

    def add_sarif_run(
        self,
        item_id: int,
        run_index: int,
        tool: str,
        tool_version: str | None,
        category: str | None,
        gate: GateId | None,
        rule_count: int | None = None,
    ) -> None:
        self._db.execute(
            """INSERT OR REPLACE INTO sarif_runs
                   (item_id, run_index, tool, tool_version, category, gate, rule_count)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (item_id, run_index, tool, tool_version, category, gate, rule_count),
        )

    def add_findings(self, item_id: int, rows: Iterable[tuple[int, GateId | None, Finding]]) -> int:
        """Insert (run index, gate, finding) rows; returns how many."""
        count = 0
        batch: list[tuple[object, ...]] = []
        for run_index, gate, finding in rows:
            batch.append(_finding_row(item_id, run_index, gate, finding))
            if len(batch) >= 5000:
                count += self._insert_findings(batch)
                batch = []
        return count + self._insert_findings(batch)

    def _insert_findings(self, batch: list[tuple[object, ...]]) -> int:
        self._db.executemany(
            """INSERT INTO findings (item_id, run_index, gate, tool, rule_id, severity, message,
                   uri, start_line, suppressed, baseline_state, fix_available, fingerprint)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            batch,
        )
        return len(batch)

    def add_runs(self, item_id: int, runs: Iterable[WorkflowRun]) -> int:
        rows = [_run_row(item_id, run) for run in runs]
        self._db.executemany(
            """INSERT OR REPLACE INTO runs (repository, run_id, attempt, workflow_name,
                   workflow_path, event, branch, head_sha, status, conclusion, created_at,
                   updated_at, url, item_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        return len(rows)

    def add_executions(self, item_id: int, executions: Iterable[GateExecution]) -> int:
        rows = [_execution_row(item_id, execution) for execution in executions]
        self._db.executemany(
            """INSERT OR REPLACE INTO executions (repository, run_id, attempt, gate, job_id,
                   job_name, step_name, outcome, started_at, completed_at, item_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        return len(rows)

    def add_gap(self, gap: EvidenceGap) -> bool:
        """Record a gap once per kind and source; returns whether it was new."""
        cursor = self._db.execute(
            """INSERT OR IGNORE INTO gaps (kind, source, reason, recorded_at, gate, repository,
                   run_id) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            (
                gap.kind.value,
                gap.source,
                gap.reason,
                to_db_time(gap.recorded_at),
                gap.gate,
                gap.repository,
                gap.run_id,
            ),
        )
        return cursor.rowcount == 1

    def resolve_gaps(self, source: str) -> None:
        """Evidence for a source arrived after all: its earlier gaps no longer hold."""
        self._db.execute("DELETE FROM gaps WHERE source = ?", (source,))

    def set_population(self, population: Population) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO populations VALUES (?, ?, ?, ?, ?, ?)",
            (
                population.name,
                population.source,
                population.query,
                to_db_time(population.extracted_at),
                population.count,
                population.source_count,
            ),
        )

    def set_checkpoint(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO checkpoints VALUES (?, ?)", (key, value))

    def add_falco_events(self, item_id: int, events: Iterable[FalcoEvent]) -> int:
        """Insert the Falco events of one item; returns how many."""
        rows = [_falco_row(item_id, event) for event in events]
        self._db.executemany(
            """INSERT INTO falco_events (item_id, uuid, time, priority, rule, source, hostname,
                   output, internal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        return len(rows)

    def add_workflow_version(self, version: WorkflowVersion) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO workflow_versions VALUES (?, ?, ?, ?, ?)",
            (
                version.repository,
                version.path,
                version.commit_sha,
                to_db_time(version.committed_at),
                version.item_id,
            ),
        )


def _finding_row(
    item_id: int, run_index: int, gate: GateId | None, finding: Finding
) -> tuple[object, ...]:
    location = finding.location
    return (
        item_id,
        run_index,
        gate,
        finding.tool,
        finding.rule_id,
        finding.severity.value,
        finding.message,
        None if location is None else location.uri,
        None if location is None else location.start_line,
        int(finding.suppressed),
        finding.baseline_state,
        None if finding.fix_available is None else int(finding.fix_available),
        finding.fingerprint,
    )


def _run_row(item_id: int, run: WorkflowRun) -> tuple[object, ...]:
    return (
        run.repository,
        run.run_id,
        run.attempt,
        run.workflow_name,
        run.workflow_path,
        run.event,
        run.branch,
        run.head_sha,
        run.status,
        run.conclusion,
        to_db_time(run.created_at),
        to_db_time(run.updated_at),
        run.url,
        item_id,
    )


def _execution_row(item_id: int, execution: GateExecution) -> tuple[object, ...]:
    return (
        execution.repository,
        execution.run_id,
        execution.attempt,
        execution.gate,
        execution.job_id,
        execution.job_name,
        execution.step_name or "",
        execution.outcome.value,
        to_db_time(execution.started_at),
        to_db_time(execution.completed_at),
        item_id,
    )


def _falco_row(item_id: int, event: FalcoEvent) -> tuple[object, ...]:
    return (
        item_id,
        event.uuid,
        to_db_time(event.time),
        event.priority,
        event.rule,
        event.source,
        event.hostname,
        event.output,
        int(event.internal),
    )


def _falco_event(row: sqlite3.Row) -> FalcoEvent:
    return FalcoEvent(
        time=_required_time(row["time"]),
        priority=row["priority"],
        rule=row["rule"],
        output=row["output"],
        source=row["source"],
        hostname=row["hostname"],
        uuid=row["uuid"],
        internal=bool(row["internal"]),
    )


def _item(row: sqlite3.Row) -> EvidenceItem:
    return EvidenceItem(
        sha256=Sha256(row["sha256"]),
        kind=ItemKind(row["kind"]),
        source=row["source"],
        produced_at=_required_time(row["produced_at"]),
        retrieved_at=_required_time(row["retrieved_at"]),
        size=row["size"],
        gate=row["gate"],
        repository=row["repository"],
        run_id=row["run_id"],
        version_id=row["version_id"],
        etag=row["etag"],
        object_lock_mode=row["object_lock_mode"],
        object_lock_retain_until=from_db_time(row["object_lock_retain_until"]),
        redacted=bool(row["redacted"]),
        note=row["note"],
        checksum_sha256=row["checksum_sha256"],
    )


def _finding(row: sqlite3.Row) -> Finding:
    uri = row["uri"]
    fix = row["fix_available"]
    return Finding(
        tool=row["tool"],
        rule_id=row["rule_id"],
        severity=Severity(row["severity"]),
        message=row["message"],
        location=None if uri is None else Location(uri, row["start_line"]),
        suppressed=bool(row["suppressed"]),
        baseline_state=row["baseline_state"],
        fix_available=None if fix is None else bool(fix),
        fingerprint=row["fingerprint"],
    )


def _run(row: sqlite3.Row) -> WorkflowRun:
    return WorkflowRun(
        repository=Repository(row["repository"]),
        run_id=row["run_id"],
        attempt=row["attempt"],
        workflow_name=row["workflow_name"],
        workflow_path=row["workflow_path"],
        event=row["event"],
        branch=row["branch"],
        head_sha=row["head_sha"],
        status=row["status"],
        conclusion=row["conclusion"],
        created_at=_required_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        url=row["url"],
    )


def _execution(row: sqlite3.Row) -> GateExecution:
    return GateExecution(
        repository=Repository(row["repository"]),
        run_id=row["run_id"],
        attempt=row["attempt"],
        gate=GateId(row["gate"]),
        job_id=row["job_id"],
        job_name=row["job_name"],
        step_name=row["step_name"] or None,
        outcome=Outcome(row["outcome"]),
        started_at=from_db_time(row["started_at"]),
        completed_at=from_db_time(row["completed_at"]),
    )


def _gap(row: sqlite3.Row) -> EvidenceGap:
    return EvidenceGap(
        kind=GapKind(row["kind"]),
        source=row["source"],
        reason=row["reason"],
        recorded_at=_required_time(row["recorded_at"]),
        gate=row["gate"],
        repository=row["repository"],
        run_id=row["run_id"],
    )


def _population(row: sqlite3.Row) -> Population:
    return Population(
        name=row["name"],
        source=row["source"],
        query=row["query"],
        extracted_at=_required_time(row["extracted_at"]),
        count=row["count"],
        source_count=row["source_count"],
    )


def _workflow_version(row: sqlite3.Row) -> WorkflowVersion:
    return WorkflowVersion(
        repository=Repository(row["repository"]),
        path=row["path"],
        commit_sha=row["commit_sha"],
        committed_at=_required_time(row["committed_at"]),
        item_id=row["item_id"],
    )
