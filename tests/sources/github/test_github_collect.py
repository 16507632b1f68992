"""The GitHub collector against a local GitHub API: what ends up in the locker, exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import NOW, TOKEN
from fake_github_api import FakeGitHub
from github_scenarios import (
    COMMITS,
    PERIOD,
    REPO,
    WHOLE_QUERY,
    at,
    build_web,
    jobs_url,
    zip_url,
)

from auditpack.controls.matrix import ControlMatrix
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import GapKind, ItemKind, Outcome
from auditpack.evidence.sources.github import CODE_SCANNING_NOTE, GitHubCollector, GitHubScope
from auditpack.evidence.sources.github_client import GitHubApi

WORKFLOW_DATES = "since=2026-07-01T00%3A00%3A00Z&until=2026-09-30T23%3A59%3A59Z"
CONTENTS = f"/repos/{REPO}/contents/.github/workflows/security.yml"


def collect(api: GitHubApi, locker: Locker, matrix: ControlMatrix, **scope: object):
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
    executions = [
        (e.run_id, e.gate, e.job_name, e.step_name, e.outcome) for e in locker.executions()
    ]
    assert executions == [
        (ids["first"], "sast", "sast", "Run semgrep", Outcome.PASSED),
        (ids["second"], "iac-scan", "iac", "Run checkov", Outcome.FAILED),
    ]
    assert [(item.kind, item.source.removeprefix(fake.url)) for item in locker.items()] == [
        (ItemKind.API_RESPONSE, "/orgs/acme/repos?type=all&per_page=100"),
        (ItemKind.WORKFLOW_RUNS, f"/repos/{REPO}/actions/runs?{WHOLE_QUERY}&per_page=100"),
        # The runs' workflow file: the commit in effect at the start, none in the quarter.
        (ItemKind.API_RESPONSE, f"{COMMITS}&until=2026-07-01T00%3A00%3A00Z&per_page=1"),
        (ItemKind.API_RESPONSE, f"{COMMITS}&{WORKFLOW_DATES}&per_page=100"),
        (ItemKind.WORKFLOW_FILE, f"{CONTENTS}?ref={ids['commit']}"),
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
    deploy_source = f"/repos/{REPO}/actions/runs/{ids['second']}/jobs#job-{ids['deploy']}"
    assert gaps == [
        (GapKind.DEPLOY_AFTER_FAILED_GATE, ids["second"], deploy_source),
        (GapKind.EXPIRED_ARTIFACT, ids["last"], zip_url(ids["expired"])),
        # GitHub's copy keeps LGTM.com's run, which the built-in matrix does not classify.
        (
            GapKind.UNCLASSIFIED,
            None,
            f"/repos/{REPO}/code-scanning/analyses/{ids['analysis']}#run0",
        ),
    ]
    deploy, expired = (gap.reason for gap in locker.gaps()[:2])
    assert deploy == (
        f"{REPO}: run {ids['second']} attempt 1: job 'deploy' succeeded from "
        "2026-08-01T00:03:00+00:00 after gate iac-scan failed in job 'iac' at "
        "2026-08-01T00:02:00+00:00"
    )
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


def test_a_run_whose_jobs_cannot_be_fetched_is_a_gap_and_is_asked_again(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix
) -> None:
    repo = fake.repo(REPO)
    run = fake.add_run(repo, at("2026-08-01T00:00:00"), jobs=[{"name": "sast"}])
    fake.fail(r"/jobs$", (404, {}, '{"message": "Not Found"}'))

    collect(api, locker, matrix, repositories=(REPO,))
    [gap] = locker.gaps()
    assert (gap.kind, gap.run_id) == (GapKind.FETCH_FAILED, run["id"])
    assert gap.reason.endswith(
        f"{jobs_url(run['id'])}: 404 Not Found; check the token's scopes "
        "(repo, actions:read, security_events)"
    )

    collect(api, locker, matrix, repositories=(REPO,))
    assert locker.gaps() == []  # the jobs arrived, and with them the gap was resolved
    assert [execution.job_name for execution in locker.executions()] == ["sast"]


@pytest.mark.parametrize(
    ("deploy", "flagged"),
    [
        ({"conclusion": "success", "started_at": "2026-08-01T00:03:00Z"}, True),
        ({"conclusion": "skipped", "started_at": "2026-08-01T00:03:00Z"}, False),
        ({"conclusion": "success", "started_at": "2026-08-01T00:01:30Z"}, False),
    ],
    ids=["after-failure", "skipped", "before-the-gate-ended"],
)
def test_deploy_after_a_failed_gate(
    fake: FakeGitHub,
    api: GitHubApi,
    locker: Locker,
    matrix: ControlMatrix,
    deploy: dict[str, str],
    flagged: bool,
) -> None:
    repo = fake.repo(REPO)
    gate = {
        "name": "sast",
        "conclusion": "failure",
        "steps": [("Run semgrep", "failure")],
        "started_at": "2026-08-01T00:01:00Z",
        "completed_at": "2026-08-01T00:02:00Z",
    }
    fake.add_run(repo, at("2026-08-01T00:00:00"), jobs=[gate, {"name": "Release", **deploy}])

    collect(api, locker, matrix, repositories=(REPO,))

    kinds = [gap.kind for gap in locker.gaps()]
    assert kinds == ([GapKind.DEPLOY_AFTER_FAILED_GATE] if flagged else [])
