"""The locker: content-addressed blobs, idempotent and all-or-nothing imports."""

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditpack.controls.matrix import load_matrix
from auditpack.evidence.importer import Origin, import_sarif
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import ItemKind

NOW = datetime(2026, 10, 2, 8, 0, tzinfo=UTC)


def test_blob_is_stored_once_under_its_sha256(tmp_path: Path, data_dir: Path) -> None:
    sample = data_dir / "sarif/trivy/trivy_image_alpine-310.sarif"
    with Locker.open(tmp_path / "locker") as locker:
        first = locker.store_file(sample)
        second = locker.store_file(sample)
        assert first == second
        assert first.sha256 == hashlib.sha256(sample.read_bytes()).hexdigest()
        assert locker.blob_path(first.sha256).read_bytes() == sample.read_bytes()
        assert list((tmp_path / "locker/tmp").iterdir()) == []


def test_reimporting_the_same_file_adds_nothing(tmp_path: Path, data_dir: Path) -> None:
    sample = data_dir / "sarif/trivy/trivy_image_alpine-310.sarif"
    origin = Origin(source=str(sample), retrieved_at=NOW, classify_path="trivy-image.sarif")
    matrix = load_matrix()
    with Locker.open(tmp_path / "locker") as locker:
        first = import_sarif(locker, matrix, sample, origin)
        findings = len(list(locker.findings()))
        again = import_sarif(locker, matrix, sample, origin)
        assert first.new and not again.new
        assert again.item_id == first.item_id
        assert len(locker.items()) == 1
        assert len(list(locker.findings())) == findings == first.records


def test_an_import_cut_short_leaves_no_index_rows(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash while findings are written: the item row rolls back with them."""
    sample = data_dir / "sarif/trivy/trivy_image_alpine-310.sarif"
    origin = Origin(source=str(sample), retrieved_at=NOW, classify_path="trivy-image.sarif")
    matrix = load_matrix()
    with Locker.open(tmp_path / "locker") as locker:
        from auditpack.evidence import locker as locker_module

        def crash(self: object, batch: list[object]) -> int:
            raise KeyboardInterrupt

        monkeypatch.setattr(locker_module.LockerWriter, "_insert_findings", crash)
        with pytest.raises(KeyboardInterrupt):
            import_sarif(locker, matrix, sample, origin)
        assert locker.items() == []
        assert list(locker.findings()) == []
        monkeypatch.undo()
        result = import_sarif(locker, matrix, sample, origin)
        assert result.new and len(locker.items()) == 1


def test_the_index_records_provenance(tmp_path: Path, data_dir: Path) -> None:
    sample = data_dir / "sarif/gitleaks/gitleaks_report_simple.sarif"
    origin = Origin(source="s3://evidence/gitleaks.sarif", retrieved_at=NOW, version_id="v1")
    with Locker.open(tmp_path / "locker") as locker:
        import_sarif(locker, load_matrix(), sample, origin)
    with Locker.open(tmp_path / "locker", create=False) as reopened:
        (item,) = reopened.items()
    assert item.kind is ItemKind.SARIF
    assert item.source == "s3://evidence/gitleaks.sarif"
    assert item.version_id == "v1"
    assert item.retrieved_at == NOW
    assert item.gate == "secret-scanning"
    assert item.redacted is True
    assert item.size == sample.stat().st_size
