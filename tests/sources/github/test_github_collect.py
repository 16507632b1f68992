"""The GitHub collector against a local GitHub API: what ends up in the locker, exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import NOW, TOKEN, make_api, zip_of
from fake_github_api import FakeGitHub

from auditpack.controls.matrix import ControlMatrix
from auditpack.controls.period import parse_period
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import GapKind, ItemKind, Outcome
from auditpack.evidence.sources.github import CODE_SCANNING_NOTE, GitHubCollector, GitHubScope
from auditpack.evidence.sources.github_client import GitHubApi

PERIOD = parse_period("2026-Q3")
REPO = "acme/web"
WHOLE_QUERY = "created=2026-07-01T00%3A00%3A00Z..2026-09-30T23%3A59%3A59Z"


def jobs_url(run_id: int) -> str:
    return f"/repos/{REPO}/actions/runs/{run_id}/jobs?filter=all&per_page=100"


def zip_url(artifact_id: int) -> str:
    return f"/repos/{REPO}/actions/artifacts/{artifact_id}/zip"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def build_web(fake: FakeGitHub, data_dir: Path) -> dict[str, int]:
    """Three runs in 2026-Q3 (one at the last second), one either side; artefacts; an analysis."""
    sarif = data_dir / "sarif"
    repo = fake.repo(REPO, org="acme")
    before = fake.add_run(repo, at("2026-06-30T23:59:59"))
    first = fake.add_run(
        repo,
        at("2026-07-10T12:00:00"),
        jobs=[
            {"name": "sast", "steps": [("Set up job", "success"), ("Run semgrep", "success")]},
            {"name": "build", "steps": [("Run make", "success")]},
        ],
    )
    second = fake.add_run(
        repo,
        at("2026-08-01T00:00:00"),
        conclusion="failure",
        jobs=[
            {
                "name": "iac",
                "conclusion": "failure",
                "steps": [("Run checkov", "failure")],
                "started_at": "2026-08-01T00:01:00Z",
                "completed_at": "2026-08-01T00:02:00Z",
            },
            {
                "name": "deploy",
                "steps": [("Run deploy", "success")],
                "started_at": "2026-08-01T00:03:00Z",
                "completed_at": "2026-08-01T00:04:00Z",
            },
        ],
    )
    last = fake.add_run(repo, at("2026-09-30T23:59:59"), jobs=[{"name": "build"}])
    fake.add_run(repo, at("2026-10-01T00:00:00"))
    trivy = (sarif / "trivy" / "trivy_image_single_vuln_v0.43.1.sarif").read_bytes()
    checkov = (sarif / "checkov" / "checkov_2.3.55_docs_example.sarif").read_bytes()
    image = fake.add_artifact(repo, first, "trivy-image-results", zip_of({"trivy.sarif": trivy}))
    fake.add_artifact(repo, first, "build-output", zip_of({"app.bin": b"\0" * 100}))
    iac = fake.add_artifact(repo, second, "checkov-sarif", zip_of({"reports/results.sarif": checkov}))
    expired = fake.add_artifact(repo, last, "semgrep-sarif", b"", expired=True)
    expired["expires_at"] = "2026-10-01T06:00:00Z"  # a repository retaining artefacts one day
    fake.add_artifact(repo, before, "trivy-image-results", zip_of({"trivy.sarif": trivy}))
    codeql = (sarif / "codeql" / "codeql-action_two_runs_lgtm_and_codeql.sarif").read_bytes()
    analysis = fake.add_analysis(repo, at("2026-08-15T10:00:00"), codeql)
    fake.add_analysis(repo, at("2026-05-15T10:00:00"), codeql)
    return {
        "first": first["id"],
        "second": second["id"],
        "last": last["id"],
        "trivy": image["id"],
        "checkov": iac["id"],
        "expired": expired["id"],
        "analysis": analysis["id"],
    }


def collect(api: GitHubApi, locker: Locker, matrix: ControlMatrix, **scope: object):  # noqa: ANN201
    collector = GitHubCollector(api, locker, matrix, clock=lambda: NOW)
    return collector.collect(GitHubScope(PERIOD, **scope))  # type: ignore[arg-type]


def test_collects_runs_jobs_artefacts_and_analyses(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix, data_dir: Path
) -> None:
    ids = build_web(fake, data_dir)

    summary = collect(api, locker, matrix, org="acme")

    assert [(run.run_id, run.created_at) for run in locker.runs()] == [
        (ids["first"], at("2026-07-10T12:00:00")),
        (ids["second"], at("2026-08-01T00:00:00")),
        (ids["last"], at("2026-09-30T23:59:59")),
    ]
    executions = [(e.run_id, e.gate, e.job_name, e.step_name, e.outcome) for e in locker.executions()]
    assert executions == [
        (ids["first"], "sast", "sast", "Run semgrep", Outcome.PASSED),
        (ids["second"], "iac-scan", "iac", "Run checkov", Outcome.FAILED),
    ]
    assert [(item.kind, item.source.removeprefix(fake.url)) for item in locker.items()] == [
        (ItemKind.API_RESPONSE, "/orgs/acme/repos?type=all&per_page=100"),
        (ItemKind.WORKFLOW_RUNS, f"/repos/{REPO}/actions/runs?{WHOLE_QUERY}&per_page=100"),
        (ItemKind.WORKFLOW_JOBS, jobs_url(ids["first"])),
        (ItemKind.WORKFLOW_JOBS, jobs_url(ids["second"])),
        (ItemKind.WORKFLOW_JOBS, jobs_url(ids["last"])),
        (ItemKind.API_RESPONSE, f"/repos/{REPO}/actions/artifacts?per_page=100"),
        # The artefact listing is newest first.
        (ItemKind.ARTIFACT_ZIP, zip_url(ids["checkov"])),
        (ItemKind.SARIF, zip_url(ids["checkov"]) + "#reports/results.sarif"),
        (ItemKind.ARTIFACT_ZIP, zip_url(ids["trivy"])),
        (ItemKind.SARIF, zip_url(ids["trivy"]) + "#trivy.sarif"),
        (ItemKind.API_RESPONSE, f"/repos/{REPO}/code-scanning/analyses?per_page=100"),
        (ItemKind.CODE_SCANNING_SARIF, f"/repos/{REPO}/code-scanning/analyses/{ids['analysis']}"),
    ]
    sarif = [(item.gate, item.run_id) for item in locker.items() if item.kind is ItemKind.SARIF]
    assert sarif == [("iac-scan", ids["second"]), ("image-scan", ids["first"])]
    scanning = [item for item in locker.items() if item.kind is ItemKind.CODE_SCANNING_SARIF]
    assert [(item.note, item.repository) for item in scanning] == [(CODE_SCANNING_NOTE, REPO)]
    gaps = [(gap.kind, gap.run_id, gap.source.removeprefix(fake.url)) for gap in locker.gaps()]
    assert gaps == [
        (GapKind.EXPIRED_ARTIFACT, ids["last"], zip_url(ids["expired"])),
        # GitHub's copy keeps LGTM.com's run, which the built-in matrix does not classify.
        (GapKind.UNCLASSIFIED, None, f"/repos/{REPO}/code-scanning/analyses/{ids['analysis']}#run0"),
    ]
    expired = locker.gaps()[0].reason
    assert expired == (
        f"{REPO}: artefact 'semgrep-sarif' of run {ids['last']} expired on 2026-10-01 before it "
        "was collected; collect more often than the retention period (90 days by default)"
    )
    [population] = locker.populations()
    assert (population.name, population.count, population.source_count) == (
        f"github-runs:{REPO}",
        3,
        3,
    )
    assert population.query == "created=2026-07-01T00:00:00Z..2026-09-30T23:59:59Z"
    assert (summary.runs, summary.artifacts_imported, summary.artifacts_expired) == (3, 2, 1)
    assert summary.analyses == 1
    assert summary.reconciled == [REPO]
    assert TOKEN not in repr(locker.query("SELECT * FROM checkpoints"))
