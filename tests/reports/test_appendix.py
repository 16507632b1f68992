"""The appendix lists every item of a small pack and summarises job listings of a large one."""

from datetime import UTC, datetime

from auditpack.evidence.model import EvidenceItem, ItemKind, Repository, Sha256
from auditpack.reports.appendix import choose_appendix
from auditpack.reports.pack import ManifestEntry

DAY = datetime(2026, 7, 1, tzinfo=UTC)


def _entry(item_id: int, kind: ItemKind, repository: str, size: int = 10) -> ManifestEntry:
    item = EvidenceItem(
        sha256=Sha256(f"{item_id:064x}"),
        kind=kind,
        source=f"item-{item_id}",
        produced_at=DAY.replace(day=item_id % 28 + 1),
        retrieved_at=DAY,
        size=size,
        repository=Repository(repository),
    )
    return ManifestEntry(item_id, item)


def test_a_small_manifest_is_listed_whole() -> None:
    manifest = tuple(_entry(i, ItemKind.WORKFLOW_JOBS, "acme/shop") for i in range(1, 6))
    appendix = choose_appendix(manifest, limit=5)
    assert appendix.rows == manifest
    assert appendix.summary == ()


def test_past_the_limit_job_listings_are_summarised_first() -> None:
    jobs = [
        _entry(i, ItemKind.WORKFLOW_JOBS, "acme/shop" if i < 8 else "acme/web")
        for i in range(1, 11)
    ]
    sarif = [_entry(i, ItemKind.SARIF, "acme/shop", size=100) for i in range(11, 14)]
    runs = [_entry(14, ItemKind.WORKFLOW_RUNS, "acme/shop")]
    appendix = choose_appendix(tuple(jobs + sarif + runs), limit=6)
    # 3 SARIF and the run listing keep their rows, then the two lowest-numbered job listings
    assert [entry.item_id for entry in appendix.rows] == [1, 2, 11, 12, 13, 14]
    assert [
        (row.repository, row.count, row.first_item, row.last_item) for row in appendix.summary
    ] == [
        ("acme/shop", 5, 3, 7),
        ("acme/web", 3, 8, 10),
    ]
    assert appendix.summary[0].total_size == 50
    assert appendix.listed_ids == {1, 2, 11, 12, 13, 14}
