"""Artefact zips: the redirect to storage without the token, and zips that must not be opened."""

from __future__ import annotations

import io
import re
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import NOW, zip_of
from fake_github_api import FakeGitHub

from auditpack.controls.matrix import ControlMatrix
from auditpack.controls.period import parse_period
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import GapKind, ItemKind
from auditpack.evidence.sources.github import GitHubCollector, GitHubScope
from auditpack.evidence.sources.github_artifacts import UnsafeArchive, ZipLimits, sarif_entries
from auditpack.evidence.sources.github_client import GitHubApi

PERIOD = parse_period("2026-Q3")
CREATED = datetime(2026, 8, 3, 10, 0, 0, tzinfo=UTC)


def linked_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        link = zipfile.ZipInfo("results.sarif")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(link, "/etc/passwd")
    return buffer.getvalue()


def bomb() -> bytes:
    return zip_of({"results.sarif": b"\0" * (20 << 20)})


def collect(api: GitHubApi, locker: Locker, matrix: ControlMatrix) -> None:
    GitHubCollector(api, locker, matrix, clock=lambda: NOW).collect(
        GitHubScope(PERIOD, repositories=("acme/web",))
    )


def test_storage_redirect_gets_no_authorization_and_no_signature_is_kept(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix, data_dir: Path
) -> None:
    repo = fake.repo("acme/web")
    run = fake.add_run(repo, CREATED)
    trivy = (data_dir / "sarif" / "trivy" / "trivy_image_single_vuln_v0.43.1.sarif").read_bytes()
    artifact = fake.add_artifact(repo, run, "trivy-image-sarif", zip_of({"trivy.sarif": trivy}))

    collect(api, locker, matrix)

    [api_request] = fake.requests_to(r"/zip$")
    assert api_request.headers["Authorization"].startswith("token ")
    [storage_request] = fake.storage_log
    assert storage_request.path == f"/blob/acme/web/{artifact['id']}"
    assert "Authorization" not in storage_request.headers
    assert all("signed" not in item.source for item in locker.items())
    [zipped] = [item for item in locker.items() if item.kind is ItemKind.ARTIFACT_ZIP]
    assert zipped.sha256 == artifact["digest"].removeprefix("sha256:")
    [sarif] = [item for item in locker.items() if item.kind is ItemKind.SARIF]
    assert (sarif.gate, sarif.run_id) == ("image-scan", run["id"])


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (zip_of({"../evil.sarif": b"{}"}), r"entry '\.\./evil\.sarif' points outside the archive"),
        (
            zip_of({"/tmp/evil.sarif": b"{}"}),
            r"entry '/tmp/evil\.sarif' points outside the archive",
        ),
        (linked_zip(), r"entry 'results\.sarif' is a symbolic link"),
        # 20 MiB of zeros deflate about a thousandfold; the exact ratio depends on zlib.
        (bomb(), r"entry 'results\.sarif' compresses 10\d\d:1 \(a zip bomb\?\)"),
    ],
    ids=["dot-dot", "absolute", "symlink", "bomb"],
)
def test_unsafe_archives_are_gaps_and_nothing_is_unpacked(
    fake: FakeGitHub,
    api: GitHubApi,
    locker: Locker,
    matrix: ControlMatrix,
    tmp_path: Path,
    content: bytes,
    why: str,
) -> None:
    repo = fake.repo("acme/web")
    run = fake.add_run(repo, CREATED)
    artifact = fake.add_artifact(repo, run, "scan-results", content)

    collect(api, locker, matrix)

    [gap] = locker.gaps()
    assert (gap.kind, gap.run_id) == (GapKind.UNSAFE_ARCHIVE, run["id"])
    assert gap.source == f"{fake.url}/repos/acme/web/actions/artifacts/{artifact['id']}/zip"
    prefix = f"acme/web: artefact 'scan-results' of run {run['id']} was not unpacked: "
    assert gap.reason.startswith(prefix)
    assert re.fullmatch(why, gap.reason.removeprefix(prefix))
    assert [item.kind for item in locker.items() if item.run_id == run["id"]] == [
        ItemKind.WORKFLOW_JOBS,
        ItemKind.ARTIFACT_ZIP,  # what arrived is kept: its hash is evidence too
    ]
    assert not list(tmp_path.rglob("evil.sarif"))
    assert list((locker.root / "tmp").iterdir()) == []


def test_an_entry_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "large.zip"
    archive.write_bytes(zip_of({"a.sarif": b"x" * 5000}))
    limits = ZipLimits(max_entry_bytes=1000)

    with pytest.raises(UnsafeArchive, match="expands to 5000 bytes"):
        sarif_entries(archive, tmp_path, limits)


def test_only_sarif_entries_are_written_under_our_names(tmp_path: Path) -> None:
    archive = tmp_path / "mixed.zip"
    archive.write_bytes(zip_of({"logs/run.txt": b"hello", "out/x.sarif.json": b"{}"}))
    out = tmp_path / "out"
    out.mkdir()

    [entry] = sarif_entries(archive, out)

    assert (entry.name, entry.path.name) == ("out/x.sarif.json", "entry-1.sarif")
    assert entry.path.read_bytes() == b"{}"


def test_a_digest_mismatch_is_refused(
    fake: FakeGitHub, api: GitHubApi, locker: Locker, matrix: ControlMatrix
) -> None:
    repo = fake.repo("acme/web")
    run = fake.add_run(repo, CREATED)
    artifact = fake.add_artifact(repo, run, "scan-results", zip_of({"r.sarif": b"{}"}))
    artifact["digest"] = "sha256:" + "0" * 64

    collect(api, locker, matrix)

    [gap] = locker.gaps()
    assert gap.kind is GapKind.UNSAFE_ARCHIVE
    assert gap.reason.endswith(f"but GitHub says sha256:{'0' * 64}")
