"""The State Council's holiday notices, read in their own words, and the office's calendar file that keeps them.

Every year the General Office of the State Council publishes 国务院办公厅关于YYYY年部分节假日安排的通知,
late in the year before. Its arrangement lines read like

    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。

`parse_notice` turns such a text into the year's rest days and make-up working days, checking every weekday
the notice names and every "共N天" against the dates, so a mistyped line is caught and named rather than
turned into wrong deadlines. `CalendarFile` is the versioned TOML file (beside the policy) where
`wzmon calendar import` keeps the notices the office confirmed; the policy reads it when it loads.
"""
from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["CALENDAR_ENV", "CalendarFile", "Notice", "NoticeError", "calendar_file_path", "calendar_outlook",
           "parse_notice"]

CALENDAR_ENV = "WZMON_CALENDAR"
_WEEKDAYS = "一二三四五六日"
_NUM = "一二三四五六七八九十"
_ITEM = re.compile(rf"^\s*[{_NUM}]+\s*[、.．]\s*(?P<name>[^：:]+?)\s*[：:]\s*(?P<body>.+)$")
_PAREN = r"[（(]([^）)]*)[）)]"


def _day_re(p: str) -> str:
    """A day as notices write it: [YYYY年][M月]D日（…、周X）, its groups prefixed with `p`."""
    return rf"(?:(?P<{p}y>\d{{4}})年)?(?:(?P<{p}m>\d{{1,2}})月)?(?P<{p}d>\d{{1,2}})日\s*(?:{_PAREN})?"


_RANGE = re.compile(_day_re("a") + r"\s*至\s*" + _day_re("b") + r"\s*放假")
_SINGLE = re.compile(_day_re("a") + r"\s*放假\s*1\s*天")
_TOTAL = re.compile(r"共\s*(\d+)\s*天")
_WORK_SENTENCE = re.compile(r"([^。；;]*?)上班")
_WORK_DAY = re.compile(_day_re("w"))
_TITLE_YEAR = re.compile(r"(?:关于|现将)\s*(\d{4})\s*年")


class NoticeError(ValueError):
    """A notice that does not parse, or a calendar file that cannot be read; names the line."""


@dataclass
class Notice:
    """One year's arrangement: rest days (weekends inside a holiday included) and make-up working days."""

    year: int
    holidays: dict[date, str] = field(default_factory=dict)  # day -> festival name as the notice writes it
    workdays: dict[date, str] = field(default_factory=dict)  # make-up working day -> the festival it serves
    title: str = ""
    source: str = ""
    sha256: str = ""

    def days(self) -> dict[date, bool]:
        """Every day the notice fixes: True = working day."""
        out = {d: False for d in self.holidays}
        out.update({d: True for d in self.workdays})
        return out


def _day(m: re.Match, p: str, year: int, month: int | None, where: str) -> date:
    y = int(m.group(f"{p}y")) if m.group(f"{p}y") else None
    mo = int(m.group(f"{p}m")) if m.group(f"{p}m") else month
    if mo is None:
        raise NoticeError(f"{where}: a day without its month ({m.group(0)!r})")
    if y is None:
        y = year - 1 if mo == 12 and month is None and year else year  # 元旦 may start on 31 December
    try:
        d = date(y, mo, int(m.group(f"{p}d")))
    except ValueError:
        raise NoticeError(f"{where}: {m.group(0)!r} is not a date") from None
    note = m.group(m.re.groupindex[f"{p}d"] + 1)  # the （…、周X） after the day
    if note:
        named = re.search(r"(?:周|星期)([一二三四五六日天])", note)
        if named:
            wd = _WEEKDAYS.index(named.group(1).replace("天", "日"))
            if wd != d.weekday():
                raise NoticeError(f"{where}: {d:%m月%d日} is a 周{_WEEKDAYS[d.weekday()]}, the notice says 周{named.group(1)}")
    return d


def parse_notice(text: str, *, year: int | None = None, source: str = "notice") -> Notice:
    """The days of one notice. `year` defaults to the one the title (关于YYYY年…) or first line names.

    Raises NoticeError naming the line (source:line) for anything it cannot read: an arrangement line
    without a 放假 range, a weekday that does not match its date, a "共N天" that does not match the range.
    """
    lines = text.splitlines()
    if year is None:
        for line in lines[:20]:
            m = _TITLE_YEAR.search(line)
            if m:
                year = int(m.group(1))
                break
    if year is None:
        raise NoticeError(f"{source}: no year found (a title like 国务院办公厅关于2027年部分节假日安排的通知); "
                          "give it with --year")
    title = next((ln.strip() for ln in lines if "节假日安排" in ln and "通知" in ln
                  and not ln.lstrip().startswith("#")), "")
    notice = Notice(year=year, title=title or f"{year}年部分节假日安排", source=source,
                    sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
    items = 0
    for no, line in enumerate(lines, 1):
        if line.lstrip().startswith("#"):
            continue
        m = _ITEM.match(line)
        if not m or ("放假" not in m.group("body") and "上班" not in m.group("body")):
            continue
        items += 1
        where = f"{source}:{no}"
        name, body = m.group("name").strip(), m.group("body")
        rng = _RANGE.search(body)
        if rng:
            first = _day(rng, "a", year, None, where)
            last = _day(rng, "b", first.year, first.month, where)
            if last < first:
                raise NoticeError(f"{where}: the holiday ends ({last}) before it starts ({first})")
            span = [first + timedelta(days=k) for k in range((last - first).days + 1)]
            total = _TOTAL.search(body[rng.end():])
            if total and int(total.group(1)) != len(span):
                raise NoticeError(f"{where}: {first:%m月%d日} to {last:%m月%d日} is {len(span)} days, the notice says "
                                  f"共{total.group(1)}天")
        else:
            single = _SINGLE.search(body)
            if not single:
                raise NoticeError(f"{where}: no holiday found in this line (expected 'M月D日（周X）至D日（周X）放假' "
                                  f"or 'M月D日（周X）放假1天'): {line.strip()[:80]}")
            span = [_day(single, "a", year, None, where)]
        for d in span:
            if d in notice.workdays:
                raise NoticeError(f"{where}: {d} is named both as a rest day and as a working day")
            notice.holidays[d] = name
        tail = body[(rng or single).end():]  # type: ignore[union-attr]
        for sentence in _WORK_SENTENCE.findall(tail):
            for w in _WORK_DAY.finditer(sentence):
                d = _day(w, "w", year, None, where)
                if d in notice.holidays:
                    raise NoticeError(f"{where}: {d} is named both as a rest day and as a working day")
                if d.weekday() < 5:
                    raise NoticeError(f"{where}: make-up working day {d} is a 周{_WEEKDAYS[d.weekday()]}, not a weekend day")
                notice.workdays[d] = name
    if not items:
        raise NoticeError(f"{source}: no arrangement lines found (lines like '一、元旦：1月1日（周四）放假1天…')")
    return notice


def calendar_file_path(policy_path: str | Path | None = None) -> Path:
    """Where the office's calendar file lives: WZMON_CALENDAR, else `calendar.toml` beside the policy file,
    else (the shipped policy) ~/.config/wzmon/calendar.toml."""
    env = os.environ.get(CALENDAR_ENV)
    if env:
        return Path(env).expanduser()
    if policy_path is not None:
        return Path(policy_path).expanduser().resolve().parent / "calendar.toml"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "wzmon" / "calendar.toml"


@dataclass
class CalendarFile:
    """The imported notices, one per year, with a version that goes up with every import."""

    path: Path
    version: int = 0
    notices: dict[int, Notice] = field(default_factory=dict)
    imported_at: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> "CalendarFile":
        p = Path(path)
        if not p.exists():
            return cls(p)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise NoticeError(f"{p}: cannot read the calendar file ({exc})") from None
        except tomllib.TOMLDecodeError as exc:
            raise NoticeError(f"{p}: not valid TOML ({exc}); restore it or delete it and import the notices again") from None
        out = cls(p, version=int(data.get("version", 0)))
        for i, item in enumerate(data.get("notice", [])):
            where = f"{p}: [[notice]] #{i + 1}"
            try:
                year = int(item["year"])
                names = list(item.get("holiday_names", []))
                holidays = {_as_date(d, where): (names[k] if k < len(names) else "")
                            for k, d in enumerate(item.get("holidays", []))}
                workdays = {_as_date(d, where): "" for d in item.get("workdays", [])}
            except (KeyError, TypeError, ValueError) as exc:
                raise NoticeError(f"{where}: {exc.__class__.__name__}: {exc}") from None
            out.notices[year] = Notice(year, holidays, workdays, str(item.get("title", "")), str(item.get("source", "")),
                                       str(item.get("sha256", "")))
            out.imported_at[year] = str(item.get("imported_at", ""))
        return out

    def with_notice(self, notice: Notice, at: datetime) -> "CalendarFile":
        """A copy with `notice` added (replacing that year's earlier one) and the version raised."""
        notices = {**self.notices, notice.year: notice}
        stamps = {**self.imported_at, notice.year: at.isoformat(timespec="seconds")}
        return CalendarFile(self.path, self.version + 1, notices, stamps)

    def save(self) -> None:
        """Write atomically; the previous version is kept as <name>.v<N>.toml."""
        lines = ["# wzmon working calendar: State Council holiday notices imported with `wzmon calendar import`.",
                 "# Written by wzmon; each import raises `version` and keeps the previous file as calendar.vN.toml.",
                 f"version = {self.version}", ""]
        for year in sorted(self.notices):
            n = self.notices[year]
            lines += ["[[notice]]", f"year = {year}", f"title = {_q(n.title)}", f"source = {_q(n.source)}",
                      f"sha256 = {_q(n.sha256)}", f"imported_at = {_q(self.imported_at.get(year, ''))}",
                      "holidays = [" + ", ".join(d.isoformat() for d in sorted(n.holidays)) + "]",
                      "holiday_names = [" + ", ".join(_q(n.holidays[d]) for d in sorted(n.holidays)) + "]",
                      "workdays = [" + ", ".join(d.isoformat() for d in sorted(n.workdays)) + "]", ""]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and self.version > 1:
            backup = self.path.with_name(f"{self.path.stem}.v{self.version - 1}{self.path.suffix}")
            backup.write_bytes(self.path.read_bytes())
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("\n".join(lines), encoding="utf-8")
        tmp.replace(self.path)

    def days(self) -> tuple[dict[date, bool], dict[int, str], dict[date, str]]:
        """(every day the notices fix, True = working; a label per year; holiday names) for the calendar."""
        days: dict[date, bool] = {}
        labels: dict[int, str] = {}
        names: dict[date, str] = {}
        for year, n in sorted(self.notices.items()):
            days.update(n.days())
            names.update(n.holidays)
            labels[year] = f"{n.title or str(year) + '年 notice'} ({self.path} v{self.version})"
        return days, labels, names


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _as_date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"{value} has a time of day")
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def calendar_outlook(policy, now=None) -> dict:  # noqa: ANN001 - Policy
    """How far the official calendar reaches: the last officially known year, the days left until its end, and a
    warning (from 60 days before) naming the command that fixes it; {} warning when nothing is due."""
    cal = policy.calendar
    if now is None:
        from matrix.timeutil import utcnow

        now = utcnow()
    today = now.astimezone(cal.tz).date()
    last = cal.last_official_year()
    end = date(last, 12, 31)
    days_left = (end - today).days
    out = {"last_official_year": last, "days_left": days_left, "warning": ""}
    if days_left <= 60:
        nxt = last + 1
        when = (f"ends on {end} ({days_left} day(s) from now)" if days_left > 0 else f"ends today ({end})"
                if days_left == 0 else f"ended on {end} ({-days_left} day(s) ago)")
        out["warning"] = (
            f"the official holiday calendar {when}: deadlines in {nxt} "
            f"are provisional (weekends and statutory holidays only, no 调休) until its notice is imported with "
            f"`wzmon calendar import notice-{nxt}.txt`")
    return out
