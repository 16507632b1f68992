"""The small organisation most GitHub collector tests start from, built on the local API."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conftest import zip_of
from fake_github_api import FakeGitHub

from auditpack.controls.period import parse_period

PERIOD = parse_period("2026-Q3")
REPO = "acme/web"
WHOLE_QUERY = "created=2026-07-01T00%3A00%3A00Z..2026-09-30T23%3A59%3A59Z"
WORKFLOW = ".github/workflows/security.yml"
COMMITS = "/repos/acme/web/commits?path=.github%2Fworkflows%2Fsecurity.yml"


def jobs_url(run_id: int) -> str:
    return f"/repos/{REPO}/actions/runs/{run_id}/jobs?filter=all&per_page=100"


def zip_url(artifact_id: int) -> str:
    return f"/repos/{REPO}/actions/artifacts/{artifact_id}/zip"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def build_web(fake: FakeGitHub, data_dir: Path) -> dict[str, Any]:
    """Three runs in 2026-Q3 (one at the last second), one either side; artefacts; an analysis;
    the runs' workflow file, unchanged since before the quarter."""
    sarif = data_dir / "sarif"
    repo = fake.repo(REPO, org="acme")
    workflow = (data_dir / "workflows" / "starter-workflows_trivy.yml").read_bytes()
    commit = fake.commit_file(repo, WORKFLOW, at("2026-03-02T08:00:00"), workflow)
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
    iac = fake.add_artifact(
        repo, second, "checkov-sarif", zip_of({"reports/results.sarif": checkov})
    )
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
        "commit": commit,
        "deploy": second["id"] + 2,  # the fake numbers a run's jobs after it
    }
