"""Which evidence items the PDF's appendix lists one by one, and how it summarises the rest.

A reader can use a few dozen pages of item rows, not a thousand: past `ROW_LIMIT` the
appendix keeps the items an auditor opens first (scanner output, runtime events, run
listings, workflow files) and summarises the rest, job listings first, by kind and
repository. The embedded manifest and pack.json always list every item.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from auditpack.evidence.model import ItemKind
from auditpack.reports.pack import ManifestEntry

ROW_LIMIT = 1000
# The order in which kinds keep their own rows when not all fit.
_PRIORITY = {
    ItemKind.SARIF: 0,
    ItemKind.CODE_SCANNING_SARIF: 0,
    ItemKind.FALCO_EVENTS: 1,
    ItemKind.WORKFLOW_RUNS: 2,
    ItemKind.WORKFLOW_FILE: 2,
    ItemKind.ARTIFACT_ZIP: 3,
    ItemKind.API_RESPONSE: 4,
    ItemKind.WORKFLOW_JOBS: 5,
}


@dataclass(frozen=True)
class SummaryRow:
    """Items of one kind and repository that the appendix does not list one by one."""

    kind: ItemKind
    repository: str
    count: int
    first_item: int
    last_item: int
    total_size: int
    earliest: datetime
    latest: datetime


@dataclass(frozen=True)
class Appendix:
    rows: tuple[ManifestEntry, ...]
    summary: tuple[SummaryRow, ...]

    @property
    def listed_ids(self) -> set[int]:
        return {entry.item_id for entry in self.rows}


def choose_appendix(manifest: tuple[ManifestEntry, ...], limit: int = ROW_LIMIT) -> Appendix:
    if len(manifest) <= limit:
        return Appendix(manifest, ())
    ranked = sorted(manifest, key=lambda entry: (_PRIORITY[entry.item.kind], entry.item_id))
    kept = sorted(ranked[:limit], key=lambda entry: entry.item_id)
    return Appendix(tuple(kept), _summarise(ranked[limit:]))


def _summarise(entries: list[ManifestEntry]) -> tuple[SummaryRow, ...]:
    groups: dict[tuple[ItemKind, str], list[ManifestEntry]] = defaultdict(list)
    for entry in entries:
        groups[(entry.item.kind, entry.item.repository or "")].append(entry)
    return tuple(
        SummaryRow(
            kind=kind,
            repository=repository,
            count=len(members),
            first_item=min(member.item_id for member in members),
            last_item=max(member.item_id for member in members),
            total_size=sum(member.item.size for member in members),
            earliest=min(member.item.produced_at for member in members),
            latest=max(member.item.produced_at for member in members),
        )
        for (kind, repository), members in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1]))
    )
