"""Collecting from a local folder: SARIF, saved listings, malformed files as gaps."""

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

from auditpack.controls.matrix import load_matrix
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import GapKind, Outcome, Repository
from auditpack.evidence.sources.local import collect_local


def test_a_folder_of_listings_and_sarif(tmp_path: Path, data_dir: Path) -> None:
    folder = data_dir / "local/acme/shop"
    with Locker.open(tmp_path / "locker") as locker:
        summary = collect_local(locker, load_matrix(), folder, Repository("acme/shop"))
        assert (summary.files, summary.new_items, summary.gaps) == (6, 6, 0)
        runs = locker.runs()
        executions = locker.executions()
        (item,) = [item for item in locker.items() if item.kind.value == "sarif"]
    assert [run.run_id for run in runs] == [99, 101, 102, 103]
    assert {run.repository for run in runs} == {"acme/shop"}
    # jobs 1011 and 1021 are deploys: not gates
    assert [(e.run_id, e.outcome) for e in executions] == [
        (99, Outcome.PASSED),
        (101, Outcome.PASSED),
        (102, Outcome.FAILED),
        (103, Outcome.PASSED),
    ]
    assert executions[0].step_name == "Run Trivy dependency scan"
    assert item.run_id == 103  # from the runs/103/ folder
    assert item.gate == "dependency-scan"
    assert item.produced_at == datetime(2026, 8, 3, 9, 2, 10, tzinfo=UTC)  # invocation end


def test_step_times_with_an_offset_are_read_as_utc(tmp_path: Path, data_dir: Path) -> None:
    with Locker.open(tmp_path / "locker") as locker:
        collect_local(locker, load_matrix(), data_dir / "local/acme/infra")
        (execution,) = locker.executions()
    # the step says 11:01:00+02:00
    assert execution.started_at == datetime(2026, 7, 7, 9, 1, tzinfo=UTC)
    assert execution.repository == "acme/infra"  # read from the job's run_url


def test_malformed_file_is_a_gap_and_the_rest_still_imports(tmp_path: Path, data_dir: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(data_dir / "sarif/edge/codeql-action_invalid_results_is_number.sarif", folder)
    shutil.copy(data_dir / "sarif/trivy/trivy_image_alpine-310.sarif", folder)
    (folder / "broken.sarif").write_text('{"version": "2.1.0", "runs": [', encoding="utf-8")
    (folder / "notes.txt").write_text("not evidence", encoding="utf-8")
    os.utime(folder / "trivy_image_alpine-310.sarif", (1783000000, 1783000000))
    with Locker.open(tmp_path / "locker") as locker:
        summary = collect_local(locker, load_matrix(), folder)
        gaps = locker.gaps()
        items = locker.items()
    # the two unreadable files are kept as items too, each beside its gap
    assert (summary.new_items, summary.gaps, summary.ignored) == (3, 2, 1)
    assert len(items) == 3
    [readable] = [item for item in items if not item.note]
    assert readable.produced_at == datetime.fromtimestamp(1783000000, UTC)  # no invocation time
    assert sorted(item.note.split(": ")[0] for item in items if item.note) == ["unreadable"] * 2
    assert {gap.kind for gap in gaps} == {GapKind.MALFORMED}
    reasons = sorted(gap.reason for gap in gaps)
    assert reasons[0].startswith(str((folder / "broken.sarif").resolve()) + ": ")
    assert "truncated" in reasons[0]
    assert reasons[1].startswith(
        str((folder / "codeql-action_invalid_results_is_number.sarif").resolve())
    )
    assert "'results' is not an array" in reasons[1]
    assert all("\n" not in reason for reason in reasons)


def test_a_job_whose_step_is_a_gate_is_not_classified_again_by_its_name() -> None:
    from auditpack.evidence.actions import executions_from_jobs

    job = {
        "id": 7,
        "run_id": 70,
        "name": "dependency-scan",
        "conclusion": "success",
        "run_url": "https://api.github.com/repos/acme/shop/actions/runs/70",
        "steps": [{"name": "Run Trivy image scan", "conclusion": "success"}],
    }
    executions = executions_from_jobs({"jobs": [job]}, load_matrix())
    assert [(e.gate, e.step_name) for e in executions] == [("image-scan", "Run Trivy image scan")]
