"""Populations per control, against counts worked out by hand from tests/data/local/acme.

acme/shop lists runs 99 (06-29, before Q3), 101, 102 and 103, all on main, each with one
dependency-scan step (Trivy); run 103 kept a Grype report. acme/infra lists run 201 with one
Checkov step (iac). Both listings say `total_count` equal to the runs they hold.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from auditpack.controls.matrix import ControlMatrix, load_matrix
from auditpack.controls.period import parse_period
from auditpack.controls.population import (
    COLUMNS,
    ControlPopulation,
    GatePopulation,
    control_population,
    control_populations,
    population_csv,
    population_xlsx,
)
from auditpack.evidence.locker import Locker, Population
from auditpack.evidence.model import Outcome, Repository
from auditpack.evidence.sources.local import collect_local

Q3 = parse_period("2026-Q3")
GENERATED_AT = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture
def matrix() -> ControlMatrix:
    return load_matrix()


def acme_locker(root: Path, acme: Path, matrix: ControlMatrix) -> Locker:
    locker = Locker.open(root)
    collect_local(locker, matrix, acme / "shop", Repository("acme/shop"))
    collect_local(locker, matrix, acme / "infra")
    return locker


@pytest.fixture
def locker(tmp_path: Path, data_dir: Path, matrix: ControlMatrix) -> Locker:
    return acme_locker(tmp_path / "locker", data_dir / "local/acme", matrix)


def population(locker: Locker, matrix: ControlMatrix, control: str, **kw: str) -> ControlPopulation:
    return control_population(locker, matrix, Q3, matrix.control("soc2", control), **kw)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_counts_per_control(locker: Locker, matrix: ControlMatrix) -> None:
    found = control_populations(locker, matrix, Q3)
    counts = {key: found[key].count for key in found if key.startswith("soc2:")}
    # CC7.1: three dependency-scan steps (101, 102, 103; run 99 is June) and one iac (201)
    # CC8.1 and CC6.1: dependency only (no sast, image or secret run); CC6.6: iac only
    assert counts == {
        "soc2:CC6.1": 3,
        "soc2:CC6.6": 1,
        "soc2:CC7.1": 4,
        "soc2:CC6.8": 0,  # runtime detection only
        "soc2:CC7.2": 0,
        "soc2:CC8.1": 3,
    }
    assert found["iso27001_2022:A.8.8"].count == 3  # image and dependency
    assert found["soc2:CC7.2"].gates == ()  # runtime detection has no CI executions
    assert found["soc2:CC7.2"].reconciles is None


def test_rows_trace_to_listing_and_sarif(
    locker: Locker, matrix: ControlMatrix, data_dir: Path
) -> None:
    cc71 = population(locker, matrix, "CC7.1")
    assert [(row.repository, row.run_id, row.gate) for row in cc71.rows] == [
        ("acme/infra", 201, "iac-scan"),
        ("acme/shop", 101, "dependency-scan"),
        ("acme/shop", 102, "dependency-scan"),
        ("acme/shop", 103, "dependency-scan"),
    ]
    shop = data_dir / "local/acme/shop"
    run_103 = cc71.rows[3]
    assert run_103.sarif_sha256 == (sha256_of(shop / "runs/103/grype-dependencies.sarif"),)
    assert run_103.job_listing_sha256 == sha256_of(shop / "jobs/103.json")
    assert run_103.outcome is Outcome.PASSED
    assert run_103.run_url == "https://github.com/acme/shop/actions/runs/103"
    assert run_103.step_name == "Run Trivy dependency scan"
    assert run_103.run_created_at == datetime(2026, 8, 3, 9, tzinfo=UTC)
    assert cc71.rows[2].outcome is Outcome.FAILED
    assert cc71.rows[0].sarif_sha256 == ()  # infra kept no Checkov output
    sources = {item.sha256: item.source for item in locker.items()}
    assert Path(sources[cc71.rows[1].job_listing_sha256]).name == "101.json"


def test_provenance_and_local_reconciliation(locker: Locker, matrix: ControlMatrix) -> None:
    cc71 = population(locker, matrix, "CC7.1")
    assert cc71.query == (
        "gate executions of image-scan, iac-scan, dependency-scan on branch main, "
        "runs created 2026-07-01..2026-09-30"
    )
    assert [(s.repository, s.listed, s.reported) for s in cc71.sources] == [
        ("acme/infra", 1, 1),
        ("acme/shop", 4, 4),
    ]
    assert "acme/infra/workflow-runs.json" in cc71.source
    assert cc71.reconciles is True
    assert cc71.extracted_at == max(s.extracted_at for s in cc71.sources)


def test_listing_short_of_its_total_count_does_not_reconcile(
    tmp_path: Path, data_dir: Path, matrix: ControlMatrix
) -> None:
    shop = tmp_path / "shop"
    (shop / "jobs").mkdir(parents=True)
    for job in (data_dir / "local/acme/shop/jobs").iterdir():
        (shop / "jobs" / job.name).write_bytes(job.read_bytes())
    listing = json.loads((data_dir / "local/acme/shop/workflow-runs.json").read_text())
    listing["total_count"] = 5  # the source says five runs; the export holds four
    (shop / "workflow-runs.json").write_text(json.dumps(listing))
    with Locker.open(tmp_path / "locker") as locker:
        collect_local(locker, matrix, shop, Repository("acme/shop"))
        cc81 = population(locker, matrix, "CC8.1")
    assert (cc81.count, cc81.reconciles) == (3, False)
    assert [(s.listed, s.reported) for s in cc81.sources] == [(4, 5)]


def test_collector_population_is_the_source(locker: Locker, matrix: ControlMatrix) -> None:
    url = "https://api.github.com/repos/acme/shop/actions/runs?created=2026-07-01..2026-09-30"
    recorded = Population(
        "github-runs:acme/shop",
        url,
        "created=2026-07-01..2026-09-30",
        datetime(2026, 10, 1, 6, tzinfo=UTC),
        3,
        4,
    )
    with locker.transaction() as writer:
        writer.set_population(recorded)
    cc81 = population(locker, matrix, "CC8.1")
    (source,) = cc81.sources
    assert (source.source, source.listed, source.reported) == (url, 3, 4)
    assert cc81.source == url
    assert cc81.extracted_at == datetime(2026, 10, 1, 6, tzinfo=UTC)
    assert cc81.reconciles is False


def test_other_branch_and_unlisted_runs(
    locker: Locker, tmp_path: Path, data_dir: Path, matrix: ControlMatrix
) -> None:
    assert population(locker, matrix, "CC7.1", default_branch="develop").count == 0
    with Locker.open(tmp_path / "jobs-only") as jobs_only:
        collect_local(jobs_only, matrix, data_dir / "local/acme/shop/jobs", Repository("acme/shop"))
        cc81 = population(jobs_only, matrix, "CC8.1")
    # Without the runs listing the branch is unknown: 101-103 are left out and counted.
    assert (cc81.count, cc81.unlisted, cc81.reconciles) == (0, 3, None)


def test_a_control_is_the_union_of_its_gates(locker: Locker, matrix: ControlMatrix) -> None:
    found = control_populations(locker, matrix, Q3)
    cc71 = found["soc2:CC7.1"]
    image, iac, dependency = cc71.parts
    assert [(part.gate, part.count) for part in cc71.parts] == [
        ("image-scan", 0),
        ("iac-scan", 1),
        ("dependency-scan", 3),
    ]
    assert [row.run_id for row in dependency.rows] == [101, 102, 103]
    assert cc71.rows == tuple(sorted(iac.rows + dependency.rows, key=lambda row: row.key))
    # stems: each gate's rows are embedded as <stem>.csv and <stem>.xlsx
    assert cc71.files == (
        "population-image-scan",
        "population-iac-scan",
        "population-dependency-scan",
    )
    # each gate's population is read once and shared by every control it evidences
    assert found["soc2:CC8.1"].parts[2] is dependency
    assert found["iso27001_2013:A.15.1.3"].parts == (dependency,)
    assert (image.sources, image.reconciles, image.source) == ((), None, "no workflow run listing")
    assert [s.repository for s in iac.sources] == ["acme/infra"]
    assert iac.query == (
        "gate executions of iac-scan on branch main, runs created 2026-07-01..2026-09-30"
    )
    assert found["soc2:CC7.2"].files == ()


def test_gate_csv_bytes(locker: Locker, matrix: ControlMatrix) -> None:
    iac = population(locker, matrix, "CC7.1").parts[1]
    item = {Path(i.source).name: n for n, i in locker.item_rows()}["201.json"]
    # infra/jobs/201.json: job 2010 "iac", its Checkov step at 11:01+02:00, no SARIF kept
    assert (
        population_csv(iac)
        == (
            ",".join(COLUMNS) + "\n"
            "acme/infra,201,1,iac-scan,2010,iac,Run Checkov IaC scan,2026-07-07T09:00:00Z,"
            "2026-07-07T09:01:00Z,2026-07-07T09:01:00Z,passed,"
            f"https://github.com/acme/infra/actions/runs/201,,,{item}\n"
        ).encode()
    )
    empty = population(locker, matrix, "CC7.1").parts[0]
    assert population_csv(empty) == (",".join(COLUMNS) + "\n").encode()


def test_csv_has_a_header_and_a_row_per_execution(locker: Locker, matrix: ControlMatrix) -> None:
    rows = list(
        csv.reader(io.StringIO(population_csv(population(locker, matrix, "CC7.1")).decode()))
    )
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == 5
    assert rows[4][:4] == ["acme/shop", "103", "1", "dependency-scan"]
    assert rows[4][COLUMNS.index("outcome")] == "passed"
    assert rows[4][COLUMNS.index("run_created_at")] == "2026-08-03T09:00:00Z"


FORMULA = '=HYPERLINK("http://x")'


def with_formula(locker: Locker, matrix: ControlMatrix) -> GatePopulation:
    """The iac-scan population with its one job named as a formula, as a user may name it."""
    iac = population(locker, matrix, "CC7.1").parts[1]
    return replace(iac, rows=(replace(iac.rows[0], job_name=FORMULA, step_name="-1+1"),))


def test_csv_cells_a_spreadsheet_would_run_are_quoted(
    locker: Locker, matrix: ControlMatrix
) -> None:
    text = population_csv(with_formula(locker, matrix)).decode()
    assert ',"\'=HYPERLINK(""http://x"")",\'-1+1,' in text
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert (row["job"], row["step"], row["repository"]) == ("'" + FORMULA, "'-1+1", "acme/infra")


def test_xlsx_keeps_a_formula_looking_name_as_text(locker: Locker, matrix: ControlMatrix) -> None:
    data = population_xlsx(with_formula(locker, matrix), GENERATED_AT)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    row = openpyxl.load_workbook(io.BytesIO(data))["population"][2]
    job = row[COLUMNS.index("job")]
    assert (job.value, job.data_type) == (FORMULA, "s")
    assert row[COLUMNS.index("step")].value == "-1+1"


def test_xlsx_is_byte_identical_and_readable(
    locker: Locker, matrix: ControlMatrix, monkeypatch: pytest.MonkeyPatch
) -> None:
    cc71 = population(locker, matrix, "CC7.1")
    first = population_xlsx(cc71, GENERATED_AT)
    # zip entries otherwise carry the clock: move it on and export again
    real_time = __import__("time").time
    monkeypatch.setattr("time.time", lambda: real_time() + 3600)
    second = population_xlsx(cc71, GENERATED_AT)
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        # XlsxWriter's fixed date, and the document's time is the one given, not the clock's
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert core.count(">2026-10-01T00:00:00Z<") == 2  # created and modified
    book = openpyxl.load_workbook(io.BytesIO(first))
    assert book.properties.modified == datetime(2026, 10, 1)
    assert book.properties.subject == cc71.query
    sheet = book["population"]
    assert sheet.max_row == 5
    assert tuple(cell.value for cell in sheet[1]) == COLUMNS
    # every cell of every row (an empty text cell reads back as None)
    cells = [tuple(None if v == "" else v for v in row.cells()) for row in cc71.rows]
    assert list(sheet.iter_rows(min_row=2, values_only=True)) == cells
    about = {row[0]: row[1] for row in book["about"].iter_rows(values_only=True) if row[0]}
    assert (about["count"], about["reconciles"], about["gates"]) == (
        4,
        "yes",
        "image-scan, iac-scan, dependency-scan",
    )
    assert about["acme/shop"] == cc71.sources[1].source  # the sources' table, under its header
    assert population_xlsx(cc71, datetime(2026, 10, 2, tzinfo=UTC)) != first
