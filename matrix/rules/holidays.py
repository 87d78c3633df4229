"""The statutory rest days of a year nobody has published yet, derived from the law itself.

《全国年节及纪念日放假办法》 as revised by the State Council in November 2024 (in force from
2025-01-01, 国务院令第798号) fixes the public holidays that every year's notice then arranges with
调休: 元旦 1 day (1 January); 春节 4 days (除夕 to 正月初三); 清明节 1 day (the 清明 solar term);
劳动节 2 days (1–2 May); 端午节 1 day (五月初五); 中秋节 1 day (八月十五); 国庆节 3 days (1–3 October).

Which weekend days become make-up working days (调休), and which weekdays are added to join a
holiday to a weekend, is only known from the notice (国务院办公厅关于YYYY年部分节假日安排的通知),
published late in the year before. A provisional year is therefore: weekends rest, these statutory
days rest, nothing else. Lunar dates come from `lunardate`, the solar term from `chinesecalendar`.
"""
from __future__ import annotations

from datetime import date, timedelta

__all__ = ["STATUTORY_RULE", "PROVISIONAL_YEARS", "statutory_holidays"]

STATUTORY_RULE = "《全国年节及纪念日放假办法》(2024年11月修订, 2025年起施行)"
PROVISIONAL_YEARS = (2025, 2099)  # the revised rule applies from 2025; lunardate knows the lunar calendar to 2099


def _lunar(year: int, month: int, day: int) -> date:
    from lunardate import LunarDate

    return LunarDate(year, month, day).to_solar_date()


def _qingming(year: int) -> date:
    import chinese_calendar

    for day, name in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30)):
        if name == "清明":
            return day
    raise ValueError(f"no 清明 solar term found in April {year}")  # pragma: no cover - the formula always has one


def statutory_holidays(year: int) -> dict[date, str]:
    """Every statutory rest day of `year` (Gregorian) with its festival name, by the 2024 rule.

    ValueError for a year outside PROVISIONAL_YEARS (the rule was different before 2025, and the lunar
    tables end in 2099)."""
    lo, hi = PROVISIONAL_YEARS
    if not lo <= year <= hi:
        raise ValueError(f"statutory holidays can be derived for {lo}–{hi} only, not {year}")
    days: dict[date, str] = {date(year, 1, 1): "元旦"}
    new_year = _lunar(year, 1, 1)  # 正月初一 of the lunar year that starts in this Gregorian year
    for k in range(-1, 3):  # 除夕 .. 正月初三
        days[new_year + timedelta(days=k)] = "春节"
    days[_qingming(year)] = "清明节"
    days[date(year, 5, 1)] = days[date(year, 5, 2)] = "劳动节"
    days[_lunar(year, 5, 5)] = "端午节"
    days[_lunar(year, 8, 15)] = "中秋节"
    for d in (1, 2, 3):
        days[date(year, 10, d)] = "国庆节"
    return dict(sorted(days.items()))
