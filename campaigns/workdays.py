"""Working days: China's statutory holidays and make-up working days (调休), from chinese-calendar, with
admin-editable overrides (CalendarOverride) for years the package does not know yet or gets wrong.

chinese-calendar carries the State Council's yearly notices and so knows only the years already announced. For a
later year the statutory holidays the law fixes (元旦, 春节, 清明, 劳动节, 端午, 中秋, 国庆; lunar ones computed by the
`holidays` package) are days off and weekends are rest; the year's 调休 arrangement is not known until the office
enters it as overrides, and the campaign and 节假日 pages say so (`uncovered_years`)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
import chinese_calendar.constants as chinese_calendar_constants
import holidays

from .models import CalendarOverride

FALLBACK_NAMES = {
    "New Year's Day": "元旦", "Chinese New Year's Eve": "春节", "Chinese New Year (Spring Festival)": "春节",
    "Tomb-Sweeping Day": "清明节", "Labor Day": "劳动节", "Dragon Boat Festival": "端午节",
    "Mid-Autumn Festival": "中秋节", "National Day": "国庆节",
}


def last_covered_year() -> int:
    """The last year whose official arrangement the holiday package carries."""
    return max(d.year for d in chinese_calendar_constants.holidays)


@lru_cache(maxsize=32)
def fallback_holidays(year: int) -> dict[dt.date, str]:
    """The statutory days off the law fixes for a year past the package's: {date: 中文名}. The package's own
    "observed" extensions are its guess at the 调休, not the State Council's notice, and are left out."""
    found = holidays.China(years=year, language="en_US")
    return {d: FALLBACK_NAMES.get(n, n) for d, n in found.items() if "observed" not in n and n in FALLBACK_NAMES}


def statutory_workday(day: dt.date) -> tuple[bool, str, bool]:
    """(working?, the holiday's name, whether the official arrangement is known) without the overrides."""
    try:
        working = bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        name = fallback_holidays(day.year).get(day, "")
        return (not name and day.weekday() < 5), name, False
    return working, "", True


def uncovered_years(start: dt.date, end: dt.date) -> list[int]:
    """The years between two dates (inclusive) whose official 调休 arrangement is not known and for which the
    office has entered no override yet."""
    known = last_covered_year()
    years = [y for y in range(max(start.year, known + 1), end.year + 1)]
    entered = set(CalendarOverride.objects.filter(date__year__in=years).dates("date", "year"))
    return [y for y in years if dt.date(y, 1, 1) not in entered]


def overrides_map() -> dict[dt.date, bool]:
    """The office's overrides, read once by callers that ask about many days (one query)."""
    return _overrides()


def _overrides() -> dict[dt.date, bool]:
    return dict(CalendarOverride.objects.values_list("date", "is_workday"))


def is_workday(day: dt.date, overrides: dict[dt.date, bool] | None = None) -> bool:
    overrides = _overrides() if overrides is None else overrides
    if day in overrides:
        return overrides[day]
    return statutory_workday(day)[0]


def add_working_days(start: dt.date, n: int, overrides: dict[dt.date, bool] | None = None) -> dt.date:
    """The date n working days after `start` (start itself not counted): 10 个工作日 from a date."""
    if n < 0:
        raise ValueError("n must not be negative")
    overrides = _overrides() if overrides is None else overrides
    day = start
    remaining = n
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_workday(day, overrides):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date, overrides: dict[dt.date, bool] | None = None) -> int:
    """Working days after `start` up to and including `end` (negative if end is before start)."""
    if end == start:
        return 0
    sign = 1 if end > start else -1
    lo, hi = (start, end) if sign > 0 else (end, start)
    overrides = _overrides() if overrides is None else overrides
    count = 0
    day = lo
    while day < hi:
        day += dt.timedelta(days=1)
        if is_workday(day, overrides):
            count += 1
    return sign * count


def add_days(start: dt.date, n: int, *, working: bool, overrides: dict[dt.date, bool] | None = None) -> dt.date:
    return add_working_days(start, n, overrides) if working else start + dt.timedelta(days=n)
