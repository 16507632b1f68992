"""Collecting again: after an interruption nothing is lost or doubled; when done, nothing moves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import NOW
from fake_github_api import FakeGitHub
from github_scenarios import PERIOD, build_web

from auditpack.controls.matrix import ControlMatrix
from auditpack.evidence.locker import Locker
from auditpack.evidence.sources.github import GitHubCollector, GitHubScope
from auditpack.evidence.sources.github_client import GitHubApi

SCOPE = GitHubScope(PERIOD, org="acme")


class Interrupt:
    """Progress that stops the collection, like a kill, after `count` units of `task`."""

    def __init__(self, task: str, count: int) -> None:
        self.task, self.left = task, count

    def advance(self, task: str, amount: int = 1, total: int | None = None) -> None:
        if task == self.task:
            self.left -= amount
            if self.left == 0:
                raise KeyboardInterrupt

    def status(self, text: str) -> None:
        return None


def contents(locker: Locker) -> dict[str, Any]:
    return {
        "items": [(i.kind, i.source, i.sha256, i.run_id, i.gate) for i in locker.items()],
        "runs": locker.runs(),
        "executions": locker.executions(),
        "gaps": [(gap.kind, gap.source, gap.reason, gap.run_id) for gap in locker.gaps()],
        "populations": locker.populations(),
        "findings": [(item, gate, finding) for item, gate, finding in locker.findings()],
    }


@pytest.mark.parametrize(("task", "count"), [("runs", 2), ("artefacts", 1), ("repositories", 1)])
def test_an_interrupted_collection_resumes_without_loss_or_duplicates(
    fake: FakeGitHub,
    api: GitHubApi,
    matrix: ControlMatrix,
    data_dir: Path,
    tmp_path: Path,
    task: str,
    count: int,
) -> None:
    build_web(fake, data_dir)
    with Locker.open(tmp_path / "reference") as reference:
        GitHubCollector(api, reference, matrix, clock=lambda: NOW).collect(SCOPE)
        expected = contents(reference)

    with Locker.open(tmp_path / "resumed") as locker:
        interrupted = GitHubCollector(
            api, locker, matrix, Interrupt(task, count), clock=lambda: NOW
        )
        with pytest.raises(KeyboardInterrupt):
            interrupted.collect(SCOPE)
        GitHubCollector(api, locker, matrix, clock=lambda: NOW).collect(SCOPE)

        assert contents(locker) == expected
        assert list((locker.root / "tmp").iterdir()) == []


def test_collecting_the_same_period_again_downloads_no_bodies(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix, data_dir: Path
) -> None:
    build_web(fake, data_dir)
    GitHubCollector(api, locker, matrix, clock=lambda: NOW).collect(SCOPE)
    before = contents(locker)
    sent, downloads = len(fake.log), len(fake.storage_log)

    again = GitHubCollector(api, locker, matrix, clock=lambda: NOW).collect(SCOPE)

    # Listings are asked again with their ETags (a 304 costs no rate limit); finished runs'
    # jobs, collected artefacts and analyses are not asked for at all.
    assert [(entry.path, entry.status) for entry in fake.log[sent:]] == [
        ("/orgs/acme/repos", 304),
        ("/repos/acme/web/actions/runs", 304),
        ("/repos/acme/web/actions/artifacts", 304),
        ("/repos/acme/web/code-scanning/analyses", 304),
    ]
    assert len(fake.storage_log) == downloads
    assert contents(locker) == before
    assert (again.runs, again.runs_reported, again.reconciled) == (3, 3, ["acme/web"])
