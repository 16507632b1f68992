"""`auditpack collect github` end to end through the CLI, against the local GitHub API."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TOKEN
from fake_github_api import FakeGitHub
from github_scenarios import build_web

from auditpack.cli import main
from auditpack.evidence.locker import Locker


def test_collect_prints_a_summary_and_never_the_token(
    fake: FakeGitHub,
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_web(fake, data_dir)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    locker = tmp_path / "locker"
    argv = ["--locker", str(locker), "collect", "github", "--org", "acme", "--period", "2026-Q3"]

    assert main([*argv, "--api-url", fake.url]) == 0

    out, err = capsys.readouterr()
    assert out.splitlines()[:10] == [
        "GitHub, 2026-Q3 (2026-07-01 to 2026-09-30 UTC):",
        "  repositories  1",
        "  runs          3 of 3 reported (reconciled)",
        "  jobs          3 new listings, 2 gate executions",
        "  artefacts     2 imported (2 SARIF), 1 expired, 0 refused as unsafe",
        "  analyses      1 code-scanning analyses",
        "  workflows     1 new workflow file versions",
        "  gaps          3 new evidence gaps",
        # 13 requests; the local server spends its limit on the 11 that answer 200.
        "  requests      13 sent (0 unchanged: 304), 4989 of 5000 left this hour",
        "  expired artefacts are lost evidence: collect more often than the retention period",
    ]
    assert TOKEN not in out + err
    with Locker.open(locker, create=False) as opened:
        assert TOKEN not in repr([opened.query(f"SELECT * FROM {t}") for t in ("items", "gaps")])


def test_dry_run_counts_requests_and_downloads_nothing(
    fake: FakeGitHub,
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_web(fake, data_dir)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    argv = ["--locker", str(tmp_path / "l"), "collect", "github", "--repo", "acme/web"]

    assert main([*argv, "--period", "2026-Q3", "--api-url", fake.url, "--dry-run"]) == 0

    out = capsys.readouterr().out
    assert out.splitlines() == [
        "1 repositories, 3 runs in 1 listing windows",
        "  repositories: 0",
        "  runs: 1",
        "  jobs: 3",
        "  artefact listings (at most): 1",
        "  code-scanning listings (at least): 1",
        # security.yml: two commit listings, and its version at the start (no change since).
        "  workflow-file listings: 2",
        "  workflow-file versions (at most): 1",
        "  plus one per SARIF artefact and per code-scanning analysis in the period",
        # The dry run also listed the workflows and counted security.yml's changes.
        "about 9 requests; this dry run used 4, 4996 of 5000 left this hour",
    ]
    assert fake.storage_log == []
    assert not fake.requests_to(r"/jobs$")


def test_a_missing_token_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    argv = ["--locker", str(tmp_path / "l"), "collect", "github", "--org", "acme"]

    assert main([*argv, "--period", "2026-Q3"]) == 1

    assert capsys.readouterr().err.strip() == (
        "auditpack: error: GitHub: GITHUB_TOKEN is not set; export a token with repo scope"
    )
