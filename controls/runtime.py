"""Runtime detection over a period: was Falco running every day, what fired, what was serious."""

from __future__ import annotations

from collections import Counter
from datetime import date

from auditpack.controls.period import Period
from auditpack.controls.results import RuntimeCoverage, RuntimeEvent
from auditpack.evidence.falco import priority_rank
from auditpack.evidence.locker import Locker

# "Critical and error events" in the pack; Alert and Emergency are worse still, so they count.
SERIOUS_PRIORITIES = frozenset({"Emergency", "Alert", "Critical", "Error"})
UNKNOWN_HOST = "(no hostname)"  # Falco lines before 2021 carry none


def assess_runtime(locker: Locker, period: Period) -> RuntimeCoverage:
    """Days with any event or heartbeat against the period's UTC days; alerts by rule.

    `events` counts alerts only: Falco's internal metrics snapshots prove that detection
    ran on a day (so they count towards coverage) but are not alerts.
    """
    stored = locker.falco_events(period.start, period.end)
    covered = {event.time.date() for _, event in stored}
    alerts = [(item_id, event) for item_id, event in stored if not event.internal]
    rules = Counter((event.rule, event.priority) for _, event in alerts)
    serious = [
        RuntimeEvent(
            time=event.time,
            priority=event.priority,
            rule=event.rule,
            hostname=event.hostname or UNKNOWN_HOST,
            output=event.output,
            item_id=item_id,
        )
        for item_id, event in alerts
        if event.priority in SERIOUS_PRIORITIES
    ]
    return RuntimeCoverage(
        days_total=period.days,
        days_with_events=len(covered),
        missing_days=_missing(period, covered),
        events=len(alerts),
        rules=tuple(
            (rule, priority, count)
            for (rule, priority), count in sorted(rules.items(), key=_busiest_first)
        ),
        serious_events=tuple(serious),
        heartbeats=len(stored) - len(alerts),
        item_ids=tuple(sorted({item_id for item_id, _ in stored})),
        last_seen=max((event.time for _, event in stored), default=None),
    )


def _missing(period: Period, covered: set[date]) -> tuple[date, ...]:
    return tuple(day for day in period.each_day() if day not in covered)


def _busiest_first(entry: tuple[tuple[str, str], int]) -> tuple[int, int, str]:
    (rule, priority), count = entry
    return -count, -priority_rank(priority), rule
