"""Workflow files in effect during the period: versions kept once, runs linked, few requests."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import NOW
from fake_github_api import FakeGitHub, FakeRepo
from github_scenarios import PERIOD, REPO, at

from auditpack.controls.matrix import ControlMatrix
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import GapKind, ItemKind, Repository
from auditpack.evidence.sources.github import GitHubCollector, GitHubScope
from auditpack.evidence.sources.github_client import GitHubApi
from auditpack.evidence.sources.github_workflows import gate_settings, version_for

SECURITY = ".github/workflows/security.yml"
GITLEAKS = ".github/workflows/gitleaks.yml"
SCOPE = GitHubScope(PERIOD, repositories=(REPO,))
BLOCKING = "          severity: 'CRITICAL,HIGH'\n          exit-code: '1'\n"


def add_run(fake: FakeGitHub, repo: FakeRepo, created: str, path: str, head: str) -> int:
    run = fake.add_run(repo, at(created))
    run.update(path=path, head_sha=head)
    return int(run["id"])


def build(fake: FakeGitHub, data_dir: Path) -> dict[str, Any]:
    """security.yml changed twice in 2026-Q3 (to block, then back); gitleaks.yml never."""
    repo = fake.repo(REPO)
    trivy = (data_dir / "workflows" / "starter-workflows_trivy.yml").read_bytes()
    blocking = trivy.replace(b"          severity: 'CRITICAL,HIGH'\n", BLOCKING.encode())
    gitleaks = (data_dir / "workflows" / "gitleaks_gitleaks.yml").read_bytes()
    fake.commit_file(repo, SECURITY, at("2026-01-10T09:00:00"), b"name: older\n")
    start = fake.commit_file(repo, SECURITY, at("2026-03-02T08:00:00"), trivy)
    block = fake.commit_file(repo, SECURITY, at("2026-08-01T10:00:00"), blocking)
    revert = fake.commit_file(repo, SECURITY, at("2026-09-01T12:00:00"), trivy)
    leaks = fake.commit_file(repo, GITLEAKS, at("2025-11-20T16:30:00"), gitleaks)
    fake.commit_file(repo, SECURITY, at("2026-10-03T00:00:00"), b"name: after the period\n")
    runs = {
        "july": add_run(fake, repo, "2026-07-10T12:00:00", SECURITY, "a" * 40),
        "just-before": add_run(fake, repo, "2026-08-01T09:59:59", SECURITY, "b" * 40),
        "on-the-change": add_run(fake, repo, "2026-08-01T10:00:00", SECURITY, block),
        "august": add_run(fake, repo, "2026-08-15T08:00:00", SECURITY, "c" * 40),
        # Re-run of the blocking commit after the revert: the commit decides, not the date.
        "rerun": add_run(fake, repo, "2026-09-02T08:00:00", SECURITY, block),
        "september": add_run(fake, repo, "2026-09-20T08:00:00", SECURITY, "d" * 40),
        "leaks": add_run(fake, repo, "2026-07-05T08:00:00", GITLEAKS, "e" * 40),
        "codeql": add_run(
            fake, repo, "2026-07-06T08:00:00", "dynamic/github-code-scanning/codeql", "f" * 40
        ),
    }
    commits = {"start": start, "block": block, "revert": revert, "leaks": leaks}
    return {"runs": runs, "commits": commits, "trivy": trivy, "blocking": blocking}


def collect(api: GitHubApi, locker: Locker, matrix: ControlMatrix, now: datetime = NOW) -> Any:
    return GitHubCollector(api, locker, matrix, clock=lambda: now).collect(SCOPE)


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_versions_in_effect_are_stored_once_and_runs_linked(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix, data_dir: Path
) -> None:
    built = build(fake, data_dir)
    commits, runs = built["commits"], built["runs"]

    summary = collect(api, locker, matrix)

    versions = locker.workflow_versions()
    assert [(v.repository, v.path, v.commit_sha, v.committed_at) for v in versions] == [
        (REPO, GITLEAKS, commits["leaks"], at("2025-11-20T16:30:00")),
        (REPO, SECURITY, commits["start"], at("2026-03-02T08:00:00")),
        (REPO, SECURITY, commits["block"], at("2026-08-01T10:00:00")),
        (REPO, SECURITY, commits["revert"], at("2026-09-01T12:00:00")),
    ]
    items = dict(locker.item_rows())
    files = [items[v.item_id] for v in versions]
    contents = f"{fake.url}/repos/{REPO}/contents"
    assert [(i.kind, i.source, i.produced_at, i.repository, i.note) for i in files] == [
        (
            ItemKind.WORKFLOW_FILE,
            f"{contents}/{v.path}?ref={v.commit_sha}",
            v.committed_at,
            REPO,
            f"{v.path} at {v.commit_sha}",
        )
        for v in versions
    ]
    gitleaks = (data_dir / "workflows" / "gitleaks_gitleaks.yml").read_bytes()
    trivy, blocking = sha256(built["trivy"]), sha256(built["blocking"])
    # The revert restored the start's content: two items, one blob.
    assert [item.sha256 for item in files] == [sha256(gitleaks), trivy, blocking, trivy]
    assert locker.blob_path(trivy).read_bytes() == built["trivy"]
    assert summary.workflow_versions == 4

    linked = {run.run_id: version_for(run, versions) for run in locker.runs()}
    assert {
        name: linked[run_id] and linked[run_id].commit_sha for name, run_id in runs.items()
    } == {
        "july": commits["start"],
        "just-before": commits["start"],
        "on-the-change": commits["block"],
        "august": commits["block"],
        "rerun": commits["block"],
        "september": commits["revert"],
        "leaks": commits["leaks"],
        "codeql": None,  # GitHub's default setup has no workflow file
    }


def test_the_linked_version_says_whether_the_gate_blocked(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix, data_dir: Path
) -> None:
    runs = build(fake, data_dir)["runs"]
    collect(api, locker, matrix)
    versions = locker.workflow_versions()
    items = dict(locker.item_rows())

    def blocks(run_id: int) -> list[tuple[str | None, bool | None]]:
        [run] = [run for run in locker.runs() if run.run_id == run_id]
        version = version_for(run, versions)
        assert version is not None
        text = locker.blob_path(items[version.item_id].sha256).read_text(encoding="utf-8")
        return [(step.setting("exit-code"), step.blocks()) for step in gate_settings(text, matrix)]

    assert blocks(runs["july"]) == [(None, False)]
    assert blocks(runs["august"]) == [("1", True)]
    assert blocks(runs["september"]) == [(None, False)]


def test_a_few_requests_per_workflow_not_one_per_run(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix, data_dir: Path
) -> None:
    build(fake, data_dir)

    collect(api, locker, matrix)

    commits = fake.requests_to(r"/commits$")
    assert [(entry.query["path"], "since" in entry.query) for entry in commits] == [
        (GITLEAKS, False),
        (GITLEAKS, True),
        (SECURITY, False),
        (SECURITY, True),
    ]
    assert [entry.query.get("until") for entry in commits if "since" not in entry.query] == [
        "2026-07-01T00:00:00Z",
        "2026-07-01T00:00:00Z",
    ]
    # Eight runs, two workflow files with four versions between them: 2 x 2 + 4 requests.
    assert len(fake.requests_to(r"/contents/")) == 4
    assert api.counter.by_kind["workflow-files"] == 8


def test_the_dry_run_counts_two_listings_per_workflow_and_one_per_version(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix, data_dir: Path
) -> None:
    build(fake, data_dir)

    plan = GitHubCollector(api, locker, matrix, clock=lambda: NOW).plan(SCOPE)

    assert plan.requests["workflow-file listings"] == 4
    # gitleaks.yml: its start; security.yml: its start and two changes.
    assert plan.requests["workflow-file versions (at most)"] == 4
    assert fake.requests_to(r"/contents/") == []


def test_collecting_again_downloads_nothing_new(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix, data_dir: Path
) -> None:
    build(fake, data_dir)
    collect(api, locker, matrix)
    sent = len(fake.log)

    again = collect(api, locker, matrix)

    # The period is over and every version is in the locker: nothing about workflows is asked.
    assert [e.path for e in fake.log[sent:] if "/commits" in e.path or "/contents/" in e.path] == []
    assert again.workflow_versions == 0
    assert len(locker.workflow_versions()) == 4


def test_while_the_period_is_open_listings_are_asked_with_etags(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix, data_dir: Path
) -> None:
    build(fake, data_dir)
    during = at("2026-09-25T00:00:00")
    collect(api, locker, matrix, during)
    sent = len(fake.log)

    collect(api, locker, matrix, during)
    answers = [(e.path, e.status) for e in fake.log[sent:] if "/commits" in e.path]
    assert answers == [(f"/repos/{REPO}/commits", 304)] * 4
    assert fake.requests_to(r"/contents/")[4:] == []

    late = fake.commit_file(fake.repos[REPO], SECURITY, at("2026-09-28T00:00:00"), b"jobs: {}\n")
    sent = len(fake.log)
    collect(api, locker, matrix, at("2026-10-02T00:00:00"))
    fetched = [e.query["ref"] for e in fake.log[sent:] if "/contents/" in e.path]
    assert fetched == [late]
    assert [v.commit_sha for v in locker.workflow_versions()][-1] == late


def test_a_version_that_cannot_be_fetched_is_a_gap_and_asked_again(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix, data_dir: Path
) -> None:
    commits = build(fake, data_dir)["commits"]
    fake.fail(r"/contents/\.github/workflows/gitleaks\.yml$", (403, {}, '{"message": "Forbidden"}'))

    collect(api, locker, matrix)
    [gap] = locker.gaps()
    assert (gap.kind, gap.repository) == (GapKind.FETCH_FAILED, REPO)
    assert gap.source == f"{fake.url}/repos/{REPO}/contents/{GITLEAKS}?ref={commits['leaks']}"
    assert len(locker.workflow_versions()) == 3

    collect(api, locker, matrix)
    assert locker.gaps() == []
    assert len(locker.workflow_versions()) == 4


def test_a_commit_that_deleted_the_file_is_no_version(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix, data_dir: Path
) -> None:
    build(fake, data_dir)
    fake.commit_file(fake.repos[REPO], GITLEAKS, at("2026-08-20T00:00:00"), None)

    collect(api, locker, matrix)

    assert locker.gaps() == []
    assert [v.path for v in locker.workflow_versions()].count(GITLEAKS) == 1


class Interrupt:
    """Progress that stops the collection, like a kill, after `count` workflow files."""

    def __init__(self, count: int) -> None:
        self.left = count

    def advance(self, task: str, amount: int = 1, total: int | None = None) -> None:
        if task == "workflow files":
            self.left -= amount
            if self.left == 0:
                raise KeyboardInterrupt

    def status(self, text: str) -> None:
        return None


@pytest.mark.parametrize("count", [1, 3])
def test_an_interrupted_collection_resumes_the_versions(
    fake: FakeGitHub,
    api: GitHubApi,
    matrix: ControlMatrix,
    data_dir: Path,
    tmp_path: Path,
    count: int,
) -> None:
    build(fake, data_dir)
    with Locker.open(tmp_path / "reference") as reference:
        collect(api, reference, matrix)
        expected = [(i.kind, i.source, i.sha256) for i in reference.items()]
        versions = stored_versions(reference)

    with Locker.open(tmp_path / "resumed") as locker:
        interrupted = GitHubCollector(api, locker, matrix, Interrupt(count), clock=lambda: NOW)
        with pytest.raises(KeyboardInterrupt):
            interrupted.collect(SCOPE)
        before = len(fake.requests_to(r"/contents/"))
        collect(api, locker, matrix)

        assert sorted((i.kind, i.source, i.sha256) for i in locker.items()) == sorted(expected)
        assert stored_versions(locker) == versions
        assert len(fake.requests_to(r"/contents/")) - before == 4 - count


def stored_versions(locker: Locker) -> list[tuple[str, str, datetime, str]]:
    items = dict(locker.item_rows())
    return [
        (v.path, v.commit_sha, v.committed_at, items[v.item_id].sha256)
        for v in locker.workflow_versions(Repository(REPO))
    ]
