"""The period under assessment: a quarter, a month or an explicit date range, in UTC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


class PeriodError(ValueError):
    """A period argument that does not read as a quarter, a month or a date range."""


_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Period:
    """Half-open [start, end) in UTC; `last_day` is the inclusive end people read."""

    label: str
    start: datetime
    end: datetime

    @property
    def first_day(self) -> date:
        return self.start.date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def each_day(self) -> list[date]:
        return [self.first_day + timedelta(days=offset) for offset in range(self.days)]

    def __str__(self) -> str:
        return f"{self.label} ({self.first_day.isoformat()} to {self.last_day.isoformat()} UTC)"


def parse_period(text: str) -> Period:
    """Read `2026-Q3`, `2026-08` or `2026-07-01..2026-09-30` (both ends inclusive)."""
    text = text.strip()
    if match := _QUARTER.match(text):
        year, quarter = int(match[1]), int(match[2])
        first = date(year, 3 * quarter - 2, 1)
        return Period(f"{year}-Q{quarter}", _midnight(first), _midnight(_add_months(first, 3)))
    if match := _MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"period {text!r}: month {month} does not exist")
        first = date(year, month, 1)
        return Period(text, _midnight(first), _midnight(_add_months(first, 1)))
    if match := _RANGE.match(text):
        try:
            first, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        except ValueError as error:
            raise PeriodError(f"period {text!r}: {error}") from None
        if last < first:
            raise PeriodError(f"period {text!r}: the range ends before it starts")
        return Period(text, _midnight(first), _midnight(last + timedelta(days=1)))
    raise PeriodError(
        f"period {text!r}: expected a quarter (2026-Q3), a month (2026-08) "
        "or a date range (2026-07-01..2026-09-30)"
    )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)
