"""Working days: China's statutory holidays and make-up working days (调休), from chinese-calendar, with
admin-editable overrides (CalendarOverride) for years the package does not know yet or gets wrong."""

from __future__ import annotations

import datetime as dt

import chinese_calendar

from .models import CalendarOverride


def _overrides() -> dict[dt.date, bool]:
    return dict(CalendarOverride.objects.values_list("date", "is_workday"))


def is_workday(day: dt.date, overrides: dict[dt.date, bool] | None = None) -> bool:
    overrides = _overrides() if overrides is None else overrides
    if day in overrides:
        return overrides[day]
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # A year the package does not cover: weekdays work unless an override says otherwise.
        return day.weekday() < 5


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The date n working days after `start` (start itself not counted): 10 个工作日 from a date."""
    if n < 0:
        raise ValueError("n must not be negative")
    overrides = _overrides()
    day = start
    remaining = n
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_workday(day, overrides):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (negative if end is before start)."""
    if end == start:
        return 0
    sign = 1 if end > start else -1
    lo, hi = (start, end) if sign > 0 else (end, start)
    overrides = _overrides()
    count = 0
    day = lo
    while day < hi:
        day += dt.timedelta(days=1)
        if is_workday(day, overrides):
            count += 1
    return sign * count


def add_days(start: dt.date, n: int, *, working: bool) -> dt.date:
    return add_working_days(start, n) if working else start + dt.timedelta(days=n)
