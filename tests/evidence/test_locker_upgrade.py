"""An older locker opened by this auditpack gains what later schemas added, and loses nothing."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditpack.evidence.errors import LockerError
from auditpack.evidence.locker import SCHEMA_VERSION, Locker
from auditpack.evidence.model import EvidenceItem, ItemKind, Repository, Sha256, WorkflowVersion

WHEN = datetime(2026, 8, 1, 10, 0, tzinfo=UTC)


def test_a_schema_1_locker_is_upgraded_in_place(tmp_path: Path) -> None:
    with Locker.open(tmp_path) as locker:
        blob = locker.store_bytes(b"jobs: {}\n")
        item = EvidenceItem(
            Sha256(blob.sha256), ItemKind.WORKFLOW_FILE, "https://x/ci.yml", WHEN, WHEN, blob.size
        )
        with locker.transaction() as writer:
            item_id, _ = writer.add_item(item)
    with sqlite3.connect(tmp_path / "index.sqlite") as db:  # as schema 1 left it
        db.execute("DROP TABLE workflow_versions")
        db.execute("ALTER TABLE sarif_runs DROP COLUMN rule_count")
        db.execute("PRAGMA user_version = 1")
    db.close()

    with Locker.open(tmp_path) as locker:
        version = WorkflowVersion(
            Repository("acme/web"), ".github/workflows/ci.yml", "a" * 40, WHEN, item_id
        )
        with locker.transaction() as writer:
            writer.add_workflow_version(version)

        assert locker.workflow_versions() == [version]
        assert [i.sha256 for i in locker.items()] == [blob.sha256]
        assert locker.query("PRAGMA user_version")[0][0] == SCHEMA_VERSION == 3
        columns = [row["name"] for row in locker.query("PRAGMA table_info(sarif_runs)")]
        assert columns[-1] == "rule_count"


def test_a_locker_from_a_newer_auditpack_is_refused(tmp_path: Path) -> None:
    Locker.open(tmp_path).close()
    with sqlite3.connect(tmp_path / "index.sqlite") as db:
        db.execute("PRAGMA user_version = 4")
    db.close()

    with pytest.raises(LockerError, match="locker schema 4, this auditpack reads 3"):
        Locker.open(tmp_path)
