"""Assessment of gates and controls, against figures worked out by hand from tests/data/local.

acme/shop: runs 101 (07-06, scan passed), 102 (07-13, scan failed: deploy skipped),
103 (08-03, scan passed), and 99 (06-29, outside Q3). Run 103 left a Grype report with two
findings, both security-severity 8.2/8.5 (high): CVE-1999-0001 has a fix, CVE-1999-0002
does not. The dependency threshold is high with a fix available, so one finding crosses it,
in a run where the gate passed: the gate did not block.
acme/infra: run 201 (07-07), a Checkov job that passed, no SARIF kept.
"""

from pathlib import Path

import pytest

from auditpack.controls.assessment import assess
from auditpack.controls.matrix import load_matrix
from auditpack.controls.period import parse_period
from auditpack.controls.results import Assessment, Status
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import Repository, Severity
from auditpack.evidence.sources.local import collect_local


@pytest.fixture
def assessment(tmp_path: Path, data_dir: Path) -> Assessment:
    matrix = load_matrix()
    with Locker.open(tmp_path / "locker") as locker:
        collect_local(locker, matrix, data_dir / "local/acme/shop", Repository("acme/shop"))
        collect_local(locker, matrix, data_dir / "local/acme/infra")
        return assess(locker, matrix, parse_period("2026-Q3"))


def test_dependency_gate_figures(assessment: Assessment) -> None:
    gate = assessment.gate("dependency-scan")
    assert (gate.executions, gate.passed, gate.failed, gate.other_outcomes) == (3, 2, 1, 0)
    assert gate.scans == 1
    assert gate.open_by_severity[Severity.HIGH] == 2
    assert sum(gate.open_by_severity.values()) == 2
    assert gate.above_threshold == 1
    assert gate.unblocked_breaches == 1
    assert gate.repositories == ("acme/shop",)
    assert gate.repositories_missing == ("acme/infra",)
    assert gate.status is Status.NOT_EFFECTIVE
    assert "while the gate passed: it did not block" in gate.reasons[0].text
    # runs 101, 102 and 103; only 103 left a SARIF log
    assert any(
        reason.text.startswith("Scanner output was kept for 1 of the 3 runs of the gate")
        for reason in gate.reasons
    )
    assert gate.last_evidence_at is not None
    assert gate.last_evidence_at.isoformat() == "2026-08-03T09:02:10+00:00"


def test_every_figure_traces_to_locker_items(assessment: Assessment, tmp_path: Path) -> None:
    gate = assessment.gate("dependency-scan")
    with Locker.open(tmp_path / "locker", create=False) as locker:
        sources = {item_id: item.source for item_id, item in locker.item_rows()}
    used = {Path(sources[item_id]).name for item_id in gate.item_ids}
    # three job listings of Q3 runs, the runs listing, the SARIF; not run 99's jobs
    assert used == {
        "101.json",
        "102.json",
        "103.json",
        "workflow-runs.json",
        "grype-dependencies.sarif",
    }
    (breach,) = [reason for reason in gate.reasons if "did not block" in reason.text]
    assert [Path(sources[i]).name for i in breach.item_ids] == ["grype-dependencies.sarif"]


def test_iac_gate_ran_without_scanner_output(assessment: Assessment) -> None:
    gate = assessment.gate("iac-scan")
    assert (gate.executions, gate.passed, gate.scans) == (1, 1, 0)
    assert gate.repositories == ("acme/infra",)
    assert gate.status is Status.PARTIALLY_EFFECTIVE
    assert any("no scanner output" in reason.text for reason in gate.reasons)


def test_gates_without_evidence(assessment: Assessment) -> None:
    assert assessment.gate("sast").status is Status.NO_EVIDENCE
    assert assessment.gate("image-scan").status is Status.NO_EVIDENCE
    assert assessment.gate("runtime-detection").status is Status.NO_EVIDENCE


def test_control_statuses_combine_their_gates(assessment: Assessment) -> None:
    # CC7.1: image (no evidence), iac (partial), dependency (not effective)
    assert assessment.control("soc2", "CC7.1").status is Status.PARTIALLY_EFFECTIVE
    # CC8.1: sast, image (no evidence), dependency (not effective)
    assert assessment.control("soc2", "CC8.1").status is Status.NOT_EFFECTIVE
    # CC6.6: iac only
    assert assessment.control("soc2", "CC6.6").status is Status.PARTIALLY_EFFECTIVE
    assert assessment.control("soc2", "CC7.2").status is Status.NO_EVIDENCE
    assert assessment.repositories == ("acme/infra", "acme/shop")


def test_gap_list_follows_the_article_order(assessment: Assessment) -> None:
    order = [gap.gate.id for gap in assessment.gaps]
    # week 1 dependency, week 2 sast and secrets, week 3 iac, week 4 image and runtime
    assert order == [
        "dependency-scan",
        "sast",
        "secret-scanning",
        "iac-scan",
        "image-scan",
        "runtime-detection",
    ]
    assert assessment.gaps[0].repositories == ("acme/infra",)
    assert "Trivy" in assessment.gaps[0].remediation


def test_a_latest_scan_with_no_rule_is_pointed_out(tmp_path: Path, data_dir: Path) -> None:
    """Semgrep OSS 1.66.2's empty output lists no rule and no result: it checked nothing."""
    import os
    import shutil

    folder = tmp_path / "shop" / "runs" / "103"
    folder.mkdir(parents=True)
    sarif = folder / "semgrep.sarif"
    shutil.copy(data_dir / "sarif/semgrep/semgrep_oss_1.66.2_empty.sarif", sarif)
    os.utime(sarif, (1785747600, 1785747600))  # 2026-08-03 09:00 UTC: no invocation time
    matrix = load_matrix()
    with Locker.open(tmp_path / "locker") as locker:
        collect_local(locker, matrix, tmp_path / "shop", Repository("acme/shop"))
        gate = assess(locker, matrix, parse_period("2026-Q3")).gate("sast")
    (note,) = [reason for reason in gate.reasons if "lists no rule" in reason.text]
    assert note.text.startswith("The latest scan of acme/shop by Semgrep OSS lists no rule")
    assert note.concern and len(note.item_ids) == 1
    # Scanner output without run history: partially effective, whatever the note says
    assert gate.status is Status.PARTIALLY_EFFECTIVE


def test_a_gate_scoped_to_some_repositories_is_not_missing_elsewhere(
    tmp_path: Path, data_dir: Path
) -> None:
    """With dependency scanning owed only by acme/shop, acme/infra is no longer a gap."""
    from auditpack.controls.matrix import default_matrix_text, parse_matrix

    text = default_matrix_text().replace(
        "  - id: dependency-scan\n", "  - id: dependency-scan\n    applies_to: '^acme/shop$'\n"
    )
    matrix = parse_matrix(text, "scoped.yaml")
    with Locker.open(tmp_path / "locker") as locker:
        collect_local(locker, matrix, data_dir / "local/acme/shop", Repository("acme/shop"))
        collect_local(locker, matrix, data_dir / "local/acme/infra")
        gate = assess(locker, matrix, parse_period("2026-Q3")).gate("dependency-scan")
    assert gate.repositories == ("acme/shop",)
    assert gate.repositories_missing == ()
    assert not any("did not run on" in reason.text for reason in gate.reasons)
