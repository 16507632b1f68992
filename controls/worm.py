"""Per gate, how much of the period's evidence sits under S3 Object Lock (WORM), and until when."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from auditpack.controls.period import Period
from auditpack.evidence.locker import Locker
from auditpack.evidence.model import EvidenceItem


@dataclass(frozen=True)
class WormStatus:
    """A gate's evidence items of the period and their Object Lock retention.

    An item counts as locked when it had a lock mode and a retain-until date later than
    the moment auditpack retrieved it: that is what the store said, and what the pack shows.
    """

    gate: str
    items: int
    locked: int
    by_mode: tuple[tuple[str, int], ...]  # (GOVERNANCE or COMPLIANCE, count), by name
    earliest_retain_until: datetime | None
    item_ids: tuple[int, ...]

    @property
    def unlocked(self) -> int:
        return self.items - self.locked


def worm_summary(locker: Locker, period: Period) -> dict[str, WormStatus]:
    """Items produced in the period, by gate; items with no gate are left out."""
    by_gate: dict[str, list[tuple[int, EvidenceItem]]] = {}
    for item_id, item in locker.item_rows():
        if item.gate is not None and period.contains(item.produced_at):
            by_gate.setdefault(item.gate, []).append((item_id, item))
    return {gate: _status(gate, rows) for gate, rows in sorted(by_gate.items())}


def is_locked(item: EvidenceItem) -> bool:
    until = item.object_lock_retain_until
    return item.object_lock_mode is not None and until is not None and until > item.retrieved_at


def _status(gate: str, rows: list[tuple[int, EvidenceItem]]) -> WormStatus:
    locked = [item for _, item in rows if is_locked(item)]
    modes = Counter(str(item.object_lock_mode) for item in locked)
    until = [item.object_lock_retain_until for item in locked if item.object_lock_retain_until]
    return WormStatus(
        gate=gate,
        items=len(rows),
        locked=len(locked),
        by_mode=tuple(sorted(modes.items())),
        earliest_retain_until=min(until) if until else None,
        item_ids=tuple(item_id for item_id, _ in rows),
    )
