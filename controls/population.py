"""The population of a control: every gate execution of the period that an auditor samples from.

An auditor relying on information produced by the entity must see it complete and accurate:
where the runs came from, the query that selected them, when they were extracted, and that
the count reconciles to the source's own count. A population here is every execution of the
control's gates in a run on the default branch created in the period, each traced to the
job listing it came from and to the SARIF kept for that run and gate. Each gate's executions
are exported once (CSV and XLSX); a control's population is the union of its gates' files.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from auditpack.controls.matrix import Control, ControlMatrix
from auditpack.controls.period import Period
from auditpack.evidence.locker import Locker, Population
from auditpack.evidence.model import GateId, ItemKind, Outcome, WorkflowRun

DEFAULT_BRANCH = "main"
_SARIF_KINDS = (ItemKind.SARIF.value, ItemKind.CODE_SCANNING_SARIF.value)
COLUMNS = (
    "repository",
    "run_id",
    "attempt",
    "gate",
    "job_id",
    "job",
    "step",
    "run_created_at",
    "started_at",
    "completed_at",
    "outcome",
    "run_url",
    "sarif_sha256",
    "sarif_items",
    "job_listing_item",
)


@dataclass(frozen=True)
class PopulationRow:
    """One gate execution: the unit an auditor samples and checks against its evidence."""

    repository: str
    run_id: int
    attempt: int
    gate: GateId
    job_id: int
    job_name: str
    step_name: str | None
    run_created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    outcome: Outcome
    run_url: str
    sarif_sha256: tuple[str, ...]  # the SARIF items kept for this run and gate, by item id
    sarif_items: tuple[int, ...]
    job_listing_item: int  # the locker item of the job listing that names this execution
    job_listing_sha256: str

    @property
    def key(self) -> tuple[str, int, int, str, int, str]:
        """The stable order a sample is drawn over."""
        return (
            self.repository,
            self.run_id,
            self.attempt,
            self.gate,
            self.job_id,
            self.step_name or "",
        )

    def cells(self) -> tuple[object, ...]:
        return (
            self.repository,
            self.run_id,
            self.attempt,
            self.gate,
            self.job_id,
            self.job_name,
            self.step_name or "",
            _time(self.run_created_at),
            _time(self.started_at),
            _time(self.completed_at),
            self.outcome.value,
            self.run_url,
            " ".join(self.sarif_sha256),
            " ".join(str(item) for item in self.sarif_items),
            self.job_listing_item,
        )


@dataclass(frozen=True)
class RunSource:
    """Where the runs of one repository were listed, with the source's own count."""

    repository: str
    source: str  # a GitHub API URL or local listing paths
    query: str
    extracted_at: datetime
    listed: int  # runs read
    reported: int | None  # the source's total_count; None when it gives none

    @property
    def reconciles(self) -> bool:
        return self.reported is not None and self.listed == self.reported


@dataclass(frozen=True)
class GatePopulation:
    """One gate's executions in the period: the rows of one population file.

    Files are per gate, not per control: a control's population is the union of its gates'
    populations, so the same executions are never exported twice under two controls' names.
    """

    gate: GateId
    branch: str
    period: Period
    rows: tuple[PopulationRow, ...]
    sources: tuple[RunSource, ...]
    source: str
    query: str
    extracted_at: datetime | None
    count: int
    reconciles: bool | None  # None: no run listing behind it, nothing to reconcile
    unlisted: int  # executions left out: their run is in no listing, so its branch is unknown

    @property
    def gates(self) -> tuple[GateId, ...]:
        return (self.gate,)

    @property
    def file_stem(self) -> str:
        """The name of its files less `.csv` and `.xlsx`."""
        return f"population-{self.gate}"


@dataclass(frozen=True)
class ControlPopulation:
    """A control's population for a period, with what makes it complete and accurate: the
    union of its CI gates' populations (`parts`), whose files hold its rows."""

    control: Control
    gates: tuple[GateId, ...]
    branch: str
    period: Period
    rows: tuple[PopulationRow, ...]
    sources: tuple[RunSource, ...]
    source: str
    query: str
    extracted_at: datetime | None
    count: int
    reconciles: bool | None  # None: no run listing behind it, nothing to reconcile
    unlisted: int  # executions left out: their run is in no listing, so its branch is unknown
    parts: tuple[GatePopulation, ...]  # one per gate, in the order of `gates`

    @property
    def files(self) -> tuple[str, ...]:
        """The stems of the files that together hold its rows, one per gate: each is embedded
        as `<stem>.csv` and `<stem>.xlsx`."""
        return tuple(part.file_stem for part in self.parts)


def control_populations(
    locker: Locker,
    matrix: ControlMatrix,
    period: Period,
    controls: Iterable[Control] | None = None,
    default_branch: str = DEFAULT_BRANCH,
) -> dict[str, ControlPopulation]:
    """The population of each control (all mapped controls by default), keyed by control key.

    Controls sharing a gate share its `GatePopulation` (the same object), and controls with
    the same gates share their rows.
    """
    index = _LockerIndex.read(locker, period, default_branch)
    chosen = matrix.mapped_controls() if controls is None else list(controls)
    parts: dict[GateId, GatePopulation] = {}
    unions: dict[tuple[GateId, ...], tuple[PopulationRow, ...]] = {}
    found: dict[str, ControlPopulation] = {}
    for control in chosen:
        gates = _ci_gates(matrix, control)
        for gate in gates:
            if gate not in parts:
                parts[gate] = _gate_population(index, gate, period, default_branch)
        if gates not in unions:
            unions[gates] = _union(parts[gate] for gate in gates)
        chosen_parts = tuple(parts[gate] for gate in gates)
        found[control.key] = _population(
            control, chosen_parts, unions[gates], period, default_branch
        )
    return found


def control_population(
    locker: Locker,
    matrix: ControlMatrix,
    period: Period,
    control: Control,
    default_branch: str = DEFAULT_BRANCH,
) -> ControlPopulation:
    return control_populations(locker, matrix, period, [control], default_branch)[control.key]


# Reading the locker once --------------------------------------------------------------------


@dataclass(frozen=True)
class _LockerIndex:
    """What every control's population is cut from: the period's executions on the branch."""

    rows_by_gate: dict[str, list[PopulationRow]]
    unlisted_by_gate: dict[str, int]
    sources: dict[str, RunSource]  # by repository

    @classmethod
    def read(cls, locker: Locker, period: Period, branch: str) -> _LockerIndex:
        runs = {(run.repository, run.run_id, run.attempt): run for run in locker.runs()}
        hashes = {item_id: item.sha256 for item_id, item in locker.item_rows()}
        sarif = _sarif_by_run(locker)
        rows: dict[str, list[PopulationRow]] = defaultdict(list)
        unlisted: dict[str, int] = defaultdict(int)
        for item_id, execution in locker.execution_rows():
            run = runs.get((execution.repository, execution.run_id, execution.attempt))
            if run is None:
                unlisted[execution.gate] += _in_period(execution.started_at, period)
                continue
            if run.branch != branch or not period.contains(run.created_at):
                continue
            linked = _linked_sarif(sarif, run, execution.gate)
            rows[execution.gate].append(
                PopulationRow(
                    repository=execution.repository,
                    run_id=execution.run_id,
                    attempt=execution.attempt,
                    gate=execution.gate,
                    job_id=execution.job_id,
                    job_name=execution.job_name,
                    step_name=execution.step_name,
                    run_created_at=run.created_at,
                    started_at=execution.started_at,
                    completed_at=execution.completed_at,
                    outcome=execution.outcome,
                    run_url=run.url,
                    sarif_sha256=tuple(hashes[item] for item in linked),
                    sarif_items=linked,
                    job_listing_item=item_id,
                    job_listing_sha256=hashes[item_id],
                )
            )
        repositories = {row.repository for found in rows.values() for row in found}
        return cls(dict(rows), dict(unlisted), _run_sources(locker, repositories))


def _in_period(moment: datetime | None, period: Period) -> int:
    return int(moment is not None and period.contains(moment))


def _sarif_by_run(locker: Locker) -> dict[tuple[int, str], list[tuple[int, str | None]]]:
    """(run id, gate) -> [(item id, repository)]: a SARIF item counts for each gate it holds."""
    rows = locker.query(
        f"""SELECT DISTINCT i.id, i.run_id, i.repository, coalesce(s.gate, i.gate) AS gate
            FROM items i LEFT JOIN sarif_runs s ON s.item_id = i.id
            WHERE i.run_id IS NOT NULL AND i.kind IN ({", ".join("?" for _ in _SARIF_KINDS)})
            ORDER BY i.id""",
        _SARIF_KINDS,
    )
    found: dict[tuple[int, str], list[tuple[int, str | None]]] = defaultdict(list)
    for row in rows:
        if row["gate"] is not None:
            found[(row["run_id"], row["gate"])].append((row["id"], row["repository"]))
    return found


def _linked_sarif(
    sarif: dict[tuple[int, str], list[tuple[int, str | None]]], run: WorkflowRun, gate: str
) -> tuple[int, ...]:
    # A SARIF collected from a folder may not name its repository; its run id still ties it.
    candidates = sarif.get((run.run_id, gate), [])
    return tuple(
        sorted({item for item, repo in candidates if repo is None or repo == run.repository})
    )


def _run_sources(locker: Locker, repositories: set[str]) -> dict[str, RunSource]:
    """Each repository's run source: the collector's recorded population, else its listings."""
    recorded = {population.name: population for population in locker.populations()}
    sources: dict[str, RunSource] = {}
    for repository in sorted(repositories):
        population = recorded.get(f"github-runs:{repository}")
        if population is not None:
            sources[repository] = _recorded_source(repository, population)
        else:
            sources[repository] = _listing_source(locker, repository)
    return sources


def _recorded_source(repository: str, population: Population) -> RunSource:
    return RunSource(
        repository=repository,
        source=population.source,
        query=population.query,
        extracted_at=population.extracted_at,
        listed=population.count,
        reported=population.source_count,
    )


def _listing_source(locker: Locker, repository: str) -> RunSource:
    """Saved listings: each one's `total_count` against the runs it holds."""
    items = locker.query(
        """SELECT DISTINCT i.id, i.sha256, i.source, i.retrieved_at FROM runs r
           JOIN items i ON i.id = r.item_id WHERE r.repository = ? ORDER BY i.id""",
        (repository,),
    )
    listed = 0
    reported: int | None = 0
    for item in items:
        held, total = _listing_counts(locker, item["sha256"])
        listed += held
        reported = None if reported is None or total is None else reported + total
    return RunSource(
        repository=repository,
        source=", ".join(item["source"] for item in items),
        query="saved workflow run listing(s), as exported",
        extracted_at=max(datetime.fromisoformat(item["retrieved_at"]) for item in items),
        listed=listed,
        reported=reported,
    )


def _listing_counts(locker: Locker, sha256: str) -> tuple[int, int | None]:
    document = json.loads(locker.blob_path(sha256).read_bytes().decode("utf-8-sig"))
    runs = document.get("workflow_runs") if isinstance(document, dict) else None
    total = document.get("total_count") if isinstance(document, dict) else None
    held = len(runs) if isinstance(runs, list) else 1  # a single run object
    return held, total if isinstance(total, int) else None


# One gate, one control -----------------------------------------------------------------------


def _ci_gates(matrix: ControlMatrix, control: Control) -> tuple[GateId, ...]:
    # Runtime detection operates on nodes, not in CI runs: it has no executions to list here.
    return tuple(gate.id for gate, _ in matrix.gates_for(control) if not gate.runtime)


def _gate_population(
    index: _LockerIndex, gate: GateId, period: Period, branch: str
) -> GatePopulation:
    rows = tuple(sorted(index.rows_by_gate.get(gate, []), key=lambda row: row.key))
    sources = _sources_of(index.sources, rows)
    return GatePopulation(
        gate=gate,
        branch=branch,
        period=period,
        rows=rows,
        sources=sources,
        source=_source_text(sources),
        query=_query((gate,), branch, period),
        extracted_at=_extracted_at(sources),
        count=len(rows),
        reconciles=_reconciles(sources),
        unlisted=index.unlisted_by_gate.get(gate, 0),
    )


def _union(parts: Iterable[GatePopulation]) -> tuple[PopulationRow, ...]:
    """The gates' rows in one stable order, the order a control's sample is drawn over."""
    return tuple(sorted((row for part in parts for row in part.rows), key=lambda row: row.key))


def _population(
    control: Control,
    parts: tuple[GatePopulation, ...],
    rows: tuple[PopulationRow, ...],
    period: Period,
    branch: str,
) -> ControlPopulation:
    by_repository = {source.repository: source for part in parts for source in part.sources}
    sources = tuple(by_repository[repository] for repository in sorted(by_repository))
    gates = tuple(part.gate for part in parts)
    return ControlPopulation(
        control=control,
        gates=gates,
        branch=branch,
        period=period,
        rows=rows,
        sources=sources,
        source=_source_text(sources),
        query=_query(gates, branch, period),
        extracted_at=_extracted_at(sources),
        count=len(rows),
        reconciles=_reconciles(sources),
        unlisted=sum(part.unlisted for part in parts),
        parts=parts,
    )


def _sources_of(
    sources: dict[str, RunSource], rows: tuple[PopulationRow, ...]
) -> tuple[RunSource, ...]:
    return tuple(sources[repository] for repository in sorted({row.repository for row in rows}))


def _extracted_at(sources: tuple[RunSource, ...]) -> datetime | None:
    return max((source.extracted_at for source in sources), default=None)


def _reconciles(sources: tuple[RunSource, ...]) -> bool | None:
    return all(source.reconciles for source in sources) if sources else None


def _source_text(sources: tuple[RunSource, ...]) -> str:
    if not sources:
        return "no workflow run listing"
    if len(sources) <= 3:
        return "; ".join(source.source for source in sources)
    return f"workflow run listings of {len(sources)} repositories (see the population's sources)"


def _query(gates: tuple[GateId, ...], branch: str, period: Period) -> str:
    named = ", ".join(gates) if gates else "no CI gate"
    return (
        f"gate executions of {named} on branch {branch}, "
        f"runs created {period.first_day.isoformat()}..{period.last_day.isoformat()}"
    )


def _time(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Export ---------------------------------------------------------------------------------------

# A spreadsheet reads a cell starting with one of these as a formula; OWASP's advice for CSV
# (https://owasp.org/www-community/attacks/CSV_Injection) is to prefix the cell with `'`.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TEXT_COLUMNS = tuple(
    column
    for column in COLUMNS
    if column not in ("run_id", "attempt", "job_id", "job_listing_item")
)


_XLSX_OPTIONS = {
    "in_memory": True,  # no temporary files; zip entries dated 1980-01-01, not by the clock
    "strings_to_urls": False,  # run URLs stay text (a sheet holds at most 65,530 links)
    "strings_to_numbers": False,
    "strings_to_formulas": False,  # a job named "=HYPERLINK(...)" stays text
}


def population_csv(population: GatePopulation | ControlPopulation) -> bytes:
    """CSV, UTF-8, LF line ends: one header row, then one row per execution.

    A text cell a spreadsheet would run as a formula (starting `=`, `+`, `-`, `@`, tab or CR:
    a repository or job name is the user's to choose) is written with a leading `'`.
    """
    frame = _frame(population.rows)
    for column in _TEXT_COLUMNS:
        cells = frame[column].astype(str)
        frame[column] = cells.where(~cells.str.startswith(_FORMULA_START), "'" + cells)
    text: str = frame.to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")


def _frame(rows: Sequence[PopulationRow]) -> pd.DataFrame:
    return pd.DataFrame.from_records([row.cells() for row in rows], columns=list(COLUMNS))


def population_xlsx(population: GatePopulation | ControlPopulation, created: datetime) -> bytes:
    """The population as a workbook: its rows, and a sheet saying where they came from.

    Byte-identical for the same population and `created` time: XlsxWriter dates its zip
    entries 1980-01-01 and the document `created` (otherwise it would take the clock).
    Written row by row through XlsxWriter itself: pandas' `to_excel` hands it one cell at a
    time and took nine times as long for a 20,000-row population.
    """
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, _XLSX_OPTIONS)
    workbook.set_properties(
        {
            "created": created.astimezone(UTC).replace(tzinfo=None),
            "title": f"Population of {', '.join(population.gates)}, {population.period}",
            "subject": population.query,
            "author": "auditpack",
        }
    )
    rows = workbook.add_worksheet("population")
    rows.write_row(0, 0, COLUMNS)
    for number, row in enumerate(population.rows, start=1):
        rows.write_row(number, 0, row.cells())
    rows.freeze_panes(1, 0)
    _write_about(workbook.add_worksheet("about"), population)
    workbook.close()
    return buffer.getvalue()


def _write_about(sheet: Worksheet, population: GatePopulation | ControlPopulation) -> None:
    """What the population is (a field a line), then its run sources as a table below."""
    fields: list[tuple[str, object]] = [
        ("gates", ", ".join(population.gates)),
        ("period", str(population.period)),
        ("query", population.query),
        ("source", population.source),
        ("extracted_at", _time(population.extracted_at)),
        ("count", population.count),
        ("reconciles", _yes_no(population.reconciles)),
        ("left out, run not listed", population.unlisted),
    ]
    for number, field in enumerate(fields):
        sheet.write_row(number, 0, field)
    header = len(fields) + 1
    sheet.write_row(
        header, 0, ("repository", "source", "query", "extracted_at", "listed", "reported")
    )
    for number, source in enumerate(population.sources, start=header + 1):
        cells = (
            source.repository,
            source.source,
            source.query,
            _time(source.extracted_at),
            source.listed,
            source.reported,
        )
        sheet.write_row(number, 0, cells)


def _yes_no(value: bool | None) -> str:
    return "not stated by the source" if value is None else ("yes" if value else "no")
