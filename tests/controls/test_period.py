"""Periods: quarters, months and ranges in UTC, half-open."""

from datetime import UTC, date, datetime

import pytest

from auditpack.controls.period import PeriodError, parse_period


def test_quarter_covers_its_three_months() -> None:
    period = parse_period("2026-Q3")
    assert period.start == datetime(2026, 7, 1, tzinfo=UTC)
    assert period.end == datetime(2026, 10, 1, tzinfo=UTC)
    assert period.last_day == date(2026, 9, 30)
    assert period.days == 92


def test_fourth_quarter_ends_at_new_year() -> None:
    period = parse_period("2026-q4")
    assert period.end == datetime(2027, 1, 1, tzinfo=UTC)
    assert period.label == "2026-Q4"


def test_month_and_range() -> None:
    assert parse_period("2026-02").days == 28
    period = parse_period("2026-07-01..2026-07-31")
    assert period.days == 31
    assert period.contains(datetime(2026, 7, 31, 23, 59, 59, tzinfo=UTC))
    assert not period.contains(datetime(2026, 8, 1, tzinfo=UTC))


@pytest.mark.parametrize("text", ["2026", "2026-Q5", "2026-13", "2026-09-30..2026-07-01", "Q3"])
def test_bad_periods_say_what_is_accepted(text: str) -> None:
    with pytest.raises(PeriodError, match="period"):
        parse_period(text)
