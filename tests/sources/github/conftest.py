"""Fixtures for the GitHub collector: a local GitHub API, a pinned clock, sleeps that only count."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fake_github_api import FakeGitHub

from auditpack.controls.matrix import ControlMatrix, load_matrix
from auditpack.evidence.locker import Locker
from auditpack.evidence.sources.github_client import GitHubApi, RetryPolicy

NOW = datetime(2026, 10, 2, 9, 0, 0, tzinfo=UTC)
TOKEN = "ghp_test0000000000000000000000000000000000"


@pytest.fixture
def fake(data_dir: Path) -> Iterator[FakeGitHub]:
    server = FakeGitHub(data_dir)
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def api(fake: FakeGitHub, sleeps: list[float]) -> GitHubApi:
    return make_api(fake, sleeps)


def make_api(fake: FakeGitHub, sleeps: list[float]) -> GitHubApi:
    return GitHubApi(
        TOKEN,
        fake.url,
        policy=RetryPolicy(attempts=4),
        sleep=sleeps.append,
        clock=lambda: NOW,
        timeout=10,
    )


@pytest.fixture
def locker(tmp_path: Path) -> Iterator[Locker]:
    with Locker.open(tmp_path / "locker") as opened:
        yield opened


@pytest.fixture(scope="session")
def matrix() -> ControlMatrix:
    return load_matrix()


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in entries.items():
            bundle.writestr(name, content)
    return buffer.getvalue()
