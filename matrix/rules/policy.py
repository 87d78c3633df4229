"""The office's management rules, read from a versioned TOML policy file.

The rules of 问政银川 keep their hour and day limits private, so the office writes its own in a
policy file; `matrix/rules/policies/default.toml` ships limits drawn from published rules (each number
says where it comes from). Every mistake in a file raises `PolicyError` naming the file, the key,
the line where it can be found, and what is wrong.

Limits are written as one string, "<amount> <working|calendar> <minutes|hours|days>", for example
"4 working hours", "5 working days", "48 calendar hours", or "none" for no clock. How each is
counted (see `matrix.rules.workcal` for the working-time definitions):

* N working minutes/hours: the instant by which N×60 (or N) minutes of working time have passed.
* N working days: close of business on the N-th working day after the day of receipt (a post on a
  rest day or after close of business counts as received on the next working day).
* N calendar minutes/hours/days: start + N×1 min/1 h/24 h.
* An extension of E working days moves a due on by E whole working days of working time
  (Tuesday 17:30 + 2 = Thursday 17:30); E is capped at `[extension] cap_working_days`.

Levels (`Policy.level`): "" → "warning" (from `warning_at`, up to and including the deadline) →
"overdue" (strictly after the deadline) → each `[[escalation]]` name in order (strictly after the
deadline plus its offset; escalation offsets in working days are whole working days of working
time, so 通报 at "5 working days" after a Tuesday 17:30 due starts after the next Tuesday 17:30).
The highest level reached is returned; none is ever reached before its time. `Policy.clock` works
out a deadline with its warning and escalation points once, for callers that store them.
"""
from __future__ import annotations

import hashlib
import math
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from matrix.rules.workcal import CalendarError, WorkingCalendar, parse_clock

__all__ = [
    "KINDS",
    "CLOCKS",
    "CalendarError",
    "Clock",
    "Escalation",
    "Extension",
    "InspectionRules",
    "Limit",
    "Limits",
    "Policy",
    "PolicyError",
    "WarningRule",
    "default_policy_path",
    "load_policy",
]

KINDS: tuple[str, ...] = ("投诉", "咨询", "求助", "建议", "表扬", "其他")
CLOCKS: tuple[str, ...] = ("forward", "first_response", "next_reply", "closure")
UNITS: tuple[str, ...] = ("minutes", "hours", "days")
BASES: tuple[str, ...] = ("working", "calendar")
RESERVED_LEVELS = ("", "warning", "overdue")
_US_PER_MIN = 60_000_000
_US_PER_DAY = 86_400_000_000

_LIMIT_RE = re.compile(r"^\s*(-?\d+)\s+([a-z]+)\s+([a-z]+)\s*$")
_UNIT_ALIASES = {"minute": "minutes", "minutes": "minutes", "min": "minutes", "mins": "minutes",
                 "hour": "hours", "hours": "hours", "h": "hours", "day": "days", "days": "days"}
_LIMIT_FORM = 'write a limit as "<amount> <working|calendar> <minutes|hours|days>", e.g. "5 working days", or "none"'


class PolicyError(ValueError):
    """A policy file that cannot be used: names the file, the key (and line) and what is wrong."""

    def __init__(self, message: str, *, source: str = "", key: str = "", line: int | None = None):
        self.source, self.key, self.line, self.reason = source, key, line, message
        where = source or "policy"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


@dataclass(frozen=True, slots=True)
class Limit:
    """A time allowance: `amount` `unit` counted on `basis` (working or calendar time)."""

    amount: int
    unit: str  # "minutes" | "hours" | "days"
    basis: str  # "working" | "calendar"

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool) or self.amount < 0:
            raise ValueError(f"amount must be a whole number >= 0, got {self.amount!r}")
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        if self.basis not in BASES:
            raise ValueError(f"basis must be working or calendar, got {self.basis!r}")

    @classmethod
    def parse(cls, text: str) -> "Limit":
        """'5 working days' → Limit(5, 'days', 'working'); ValueError saying what is wrong."""
        if not isinstance(text, str):
            raise ValueError(f"expected a string, got {type(text).__name__} {text!r}; {_LIMIT_FORM}")
        m = _LIMIT_RE.match(text.lower())
        if not m:
            raise ValueError(f"cannot read {text!r}; {_LIMIT_FORM}")
        amount, basis, unit = int(m.group(1)), m.group(2), m.group(3)
        if amount < 0:
            raise ValueError(f"negative amount in {text!r}: a limit must be 0 or more")
        if basis not in BASES:
            raise ValueError(f"unknown basis {basis!r} in {text!r} (use working or calendar)")
        if unit not in _UNIT_ALIASES:
            raise ValueError(f"unknown unit {unit!r} in {text!r} (use minutes, hours or days)")
        return cls(amount, _UNIT_ALIASES[unit], basis)

    @property
    def minutes(self) -> int | None:
        """Length in minutes for minute/hour limits; None for days (whose length depends on the day)."""
        if self.unit == "minutes":
            return self.amount
        if self.unit == "hours":
            return self.amount * 60
        return None

    def __str__(self) -> str:
        unit = self.unit[:-1] if self.amount == 1 else self.unit
        return f"{self.amount} {self.basis} {unit}"


@dataclass(frozen=True, slots=True)
class Limits:
    """The four clocks of a case; None means that clock does not run."""

    forward: Limit | None
    first_response: Limit | None
    next_reply: Limit | None
    closure: Limit | None

    def as_dict(self) -> dict[str, str]:
        return {c: (str(getattr(self, c)) if getattr(self, c) else "none") for c in CLOCKS}


@dataclass(frozen=True, slots=True)
class WarningRule:
    """When to warn before a deadline: once `at_fraction` of the allowed time has passed, and/or
    when no more than `before` is left; whichever comes first."""

    at_fraction: float | None
    before: Limit | None


@dataclass(frozen=True, slots=True)
class Escalation:
    """A level reached once a deadline is more than `after` past (0 = as soon as it is missed)."""

    name: str
    after: Limit


@dataclass(frozen=True, slots=True)
class Extension:
    """Extension rules: a request must arrive before `cutoff` on the deadline day (and before the
    deadline itself); at most `cap_working_days` working days in all. cap 0 = no extensions."""

    cutoff: time | None
    cap_working_days: int


# 国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》: an account with no update in the two weeks before the
# check fails outright (单项否决, "监测时间点前2周内无信息更新"). These are the defaults when a policy file has no
# [inspection] table (the shipped default.toml, whose bytes are recorded as version default-2025.1, has none).
SILENCE_RULE = "国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》：监测时间点前2周内无信息更新，单项否决"
DEFAULT_SILENCE_WARNING = Limit(10, "days", "calendar")  # warn four days before the two weeks run out
DEFAULT_SILENCE_BREACH = Limit(14, "days", "calendar")  # "前2周内无信息更新"
DEFAULT_COMMENT_WINDOW = Limit(7, "days", "calendar")  # comments of member posts younger than this are read
DEFAULT_LINK_INTERVAL = Limit(1, "days", "calendar")  # each link checked at most once a day
# comments that ask, request or complain open cases; chat and thanks under a post do not
DEFAULT_COMMENT_KINDS = ("投诉", "咨询", "求助", "建议")


@dataclass(frozen=True, slots=True)
class InspectionRules:
    """The national 政务新媒体 check as the office applies it: silence limits (per account category if the
    office wishes), whether citizens' requests in the comments under members' own posts open cases, how long
    a member post's comments are read, and how often a link in a member's post is checked."""

    silence_warning: Limit = DEFAULT_SILENCE_WARNING
    silence_breach: Limit = DEFAULT_SILENCE_BREACH
    category_silence: tuple[tuple[str, Limit, Limit], ...] = ()
    comment_cases: bool = True
    comment_kinds: tuple[str, ...] = DEFAULT_COMMENT_KINDS
    comment_window: Limit = DEFAULT_COMMENT_WINDOW
    link_check_interval: Limit = DEFAULT_LINK_INTERVAL
    rule: str = SILENCE_RULE

    def silence_limits(self, category: str | None = None) -> tuple[Limit, Limit]:
        """(warning, breach) for an account category: the category's own, else the general ones."""
        for cat, warning, breach in self.category_silence:
            if cat == category:
                return warning, breach
        return self.silence_warning, self.silence_breach


@dataclass(frozen=True, slots=True)
class Clock:
    """One running clock worked out once: its deadline, warning point and escalation points, so
    that `level(now)` is only comparisons (for re-evaluating many cases quickly)."""

    start: datetime
    due: datetime
    warning_at: datetime | None
    escalations: tuple[tuple[str, datetime], ...]

    def level(self, now: datetime) -> str:
        """Same answer as `Policy.level(due, now, start, basis)`."""
        now = _aware(now)
        if now > self.due:
            for name, at in reversed(self.escalations):
                if now > at:
                    return name
            return "overdue"
        if now < self.start or self.warning_at is None or now < self.warning_at:
            return ""
        return "warning"


def _file_stamp(path: Path | None) -> tuple[float, int] | None:
    """(mtime, size) of a file, None when there is none: enough to notice a rewrite."""
    try:
        st = Path(path).stat() if path is not None else None
    except OSError:
        return None
    return (st.st_mtime, st.st_size) if st is not None else None


def default_policy_path() -> Path:
    return Path(str(resources.files("matrix.rules.policies").joinpath("default.toml")))


def load_policy(path: str | Path | None = None, calendar_file: str | Path | None = None) -> "Policy":
    """Read and validate a policy file (None = the shipped default) and the office's calendar file of
    imported notices (default: matrix.rules.notices.calendar_file_path); raises PolicyError."""
    from matrix.rules.notices import calendar_file_path

    cal_path = Path(calendar_file) if calendar_file is not None else calendar_file_path(path)
    p = Path(path) if path is not None else default_policy_path()
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise PolicyError("file not found", source=str(p)) from None
    except OSError as exc:
        raise PolicyError(f"cannot read the file: {exc.strerror or exc}", source=str(p)) from None
    return Policy.from_bytes(raw, source=str(p), calendar_file=cal_path)


# --------------------------------------------------------------------------- validation helpers

def _unquote(part: str) -> str:
    part = part.strip()
    if len(part) >= 2 and part[0] == part[-1] and part[0] in "\"'":
        return part[1:-1]
    return part


def _split_key(text: str) -> list[str]:
    parts, buf, quote = [], "", ""
    for ch in text:
        if quote:
            buf += ch
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
            buf += ch
        elif ch == ".":
            parts.append(_unquote(buf))
            buf = ""
        else:
            buf += ch
    parts.append(_unquote(buf))
    return parts


def _find_line(text: str, path: tuple) -> int | None:
    """Best-effort line number of the key at `path` (str parts, ints for array-of-tables indexes)."""
    table: list = []
    counters: dict[tuple, int] = {}
    best: tuple[int, int] | None = None  # (matched length, line)
    want = list(path)
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[["):
            name = tuple(_split_key(stripped[2:stripped.find("]]")]))
            counters[name] = counters.get(name, -1) + 1
            table = [*name, counters[name]]
            full = table
        elif stripped.startswith("["):
            table = _split_key(stripped[1:stripped.find("]")])
            full = table
        elif "=" in stripped:
            full = table + _split_key(stripped.split("=", 1)[0])
        else:
            continue
        k = 0
        while k < min(len(full), len(want)) and full[k] == want[k]:
            k += 1
        if k == len(full) or k == len(want):  # a line naming the key, or a table/key holding it
            if best is None or k > best[0]:
                best = (k, n)
    return best[1] if best else None


class _Reader:
    """Walks the parsed TOML, raising PolicyError with file, key and line."""

    def __init__(self, text: str, source: str):
        self.text, self.source = text, source

    def error(self, path: tuple, why: str) -> PolicyError:
        key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "[")
        return PolicyError(why, source=self.source, key=key, line=_find_line(self.text, path) if path else None)

    def table(self, data: dict, path: tuple, allowed: Iterable[str]) -> None:
        if not isinstance(data, dict):
            raise self.error(path, f"expected a table, got {_type(data)}")
        allowed = tuple(allowed)
        for key in data:
            if key not in allowed:
                raise self.error((*path, key), f"unknown key (allowed here: {', '.join(allowed)})")

    def string(self, data: dict, path: tuple, key: str, default: Any = ...) -> Any:
        if key not in data:
            if default is ...:
                raise self.error((*path, key), "missing")
            return default
        value = data[key]
        if not isinstance(value, str):
            raise self.error((*path, key), f"expected a string, got {_type(value)}")
        return value

    def string_list(self, data: dict, path: tuple, key: str, default: list[str]) -> list[str]:
        if key not in data:
            return list(default)
        value = data[key]
        if not isinstance(value, list):
            raise self.error((*path, key), f"expected a list of strings, got {_type(value)}")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error((*path, key), f"item {i + 1} should be a string, got {_type(item)}")
            if not item.strip():
                raise self.error((*path, key), f"item {i + 1} is empty")
            out.append(item.strip())
        return out

    def limit(self, value: Any, path: tuple) -> Limit | None:
        if isinstance(value, str) and value.strip().lower() == "none":
            return None
        try:
            return Limit.parse(value)
        except ValueError as exc:
            raise self.error(path, str(exc)) from None

    def limits_table(self, data: dict, path: tuple, extra_allowed: Iterable[str] = ()) -> dict[str, Limit | None]:
        self.table(data, path, (*CLOCKS, *extra_allowed))
        return {c: self.limit(data[c], (*path, c)) for c in CLOCKS if c in data}


def _type(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "a table", date: "a date", datetime: "a date-time", time: "a time"}.get(type(value), type(value).__name__)


TOP_KEYS = ("version", "description", "calendar", "defaults", "kinds", "categories", "warning",
            "escalation", "extension", "phrases", "cases", "inspection")


# --------------------------------------------------------------------------- the policy

class Policy:
    """A validated policy: limits per post kind and account category, the working calendar,
    warning and escalation points, extension rules and the phrases the case engine looks for."""

    def __init__(self, *, text: str, sha256: str, source: str, version: str, description: str,
                 calendar: WorkingCalendar, defaults: Limits, kind_limits: dict[str, dict],
                 category_limits: dict[str, dict], category_kind_limits: dict[tuple[str, str], dict],
                 warning: WarningRule, escalations: tuple[Escalation, ...], extension: Extension,
                 closing_phrases: list[str], forward_phrases: list[str], open_kinds: set[str],
                 inspection: InspectionRules | None = None):
        self.text, self.sha256, self.source = text, sha256, source
        self.inspection = inspection or InspectionRules()
        self.version, self.description = version, description
        self.calendar = calendar
        self.defaults = defaults
        self._kind_limits = kind_limits
        self._category_limits = category_limits
        self._category_kind_limits = category_kind_limits
        self.warning = warning
        self.escalations = escalations
        self.escalation_levels: list[str] = [e.name for e in escalations]
        self.levels: list[str] = ["", "warning", "overdue", *self.escalation_levels]
        self.extension = extension
        self.closing_phrases = closing_phrases
        self.forward_phrases = forward_phrases
        self.open_kinds = open_kinds
        self.categories: set[str] = set(category_limits) | {c for c, _ in category_kind_limits}
        self._closing_re = re.compile("|".join(re.escape(p) for p in closing_phrases)) if closing_phrases else None
        self._forward_re = re.compile("|".join(_phrase_regex(p) for p in forward_phrases)) if forward_phrases else None
        self._limits_cache: dict[tuple[str, str | None], Limits] = {}
        self._escalation_cache: dict[int, tuple[tuple[str, int], ...]] = {}
        self._cob_cache: dict[tuple[int, bool, int, int], int] = {}
        self._plans: dict[Limit, tuple[int, int]] = {}
        self._calendar_stamp = _file_stamp(getattr(calendar, "calendar_file", None))

    def refresh_calendar(self) -> bool:
        """Take up a calendar file changed since the policy was read (`wzmon calendar import` while a poller runs),
        so a long-running process never re-judges cases on the days it had before. True when it changed."""
        path = getattr(self.calendar, "calendar_file", None)
        stamp = _file_stamp(path)
        if path is None or stamp == self._calendar_stamp:
            return False
        fresh = Policy.from_bytes(self.text.encode("utf-8"), source=self.source, calendar_file=path)
        self.calendar = fresh.calendar
        self._calendar_stamp = stamp
        self._escalation_cache.clear()
        self._cob_cache.clear()
        return True

    # ------------------------------------------------------------------ parsing

    @classmethod
    def from_text(cls, text: str, source: str = "<policy text>") -> "Policy":
        return cls.from_bytes(text.encode("utf-8"), source=source)

    @classmethod
    def from_bytes(cls, raw: bytes, source: str = "<policy text>", calendar_file: Path | None = None) -> "Policy":
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", source=source) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"at line (\d+)", str(exc))
            raise PolicyError(f"not valid TOML: {exc}", source=source,
                              line=int(m.group(1)) if m else None) from None
        r = _Reader(text, source)
        r.table(data, (), TOP_KEYS)

        version = r.string(data, (), "version")
        if not version.strip() or len(version) > 64:
            raise r.error(("version",), "must be a non-empty name of at most 64 characters, e.g. \"2025.1\"")
        description = r.string(data, (), "description", "")

        calendar = cls._read_calendar(r, data.get("calendar", {}), source, calendar_file)

        if "defaults" not in data:
            raise r.error(("defaults",), "missing: the policy needs a [defaults] table with "
                          + ", ".join(CLOCKS) + ' (write "none" for a clock that does not run)')
        d = r.limits_table(data["defaults"], ("defaults",))
        for c in CLOCKS:
            if c not in d:
                raise r.error(("defaults", c), 'missing (write "none" if this clock should not run)')
        defaults = Limits(**d)

        kinds = data.get("kinds", {})
        r.table(kinds, ("kinds",), KINDS)
        kind_limits = {k: r.limits_table(v, ("kinds", k)) for k, v in kinds.items()}

        category_limits: dict[str, dict] = {}
        category_kind_limits: dict[tuple[str, str], dict] = {}
        categories = data.get("categories", {})
        if not isinstance(categories, dict):
            raise r.error(("categories",), f"expected a table of account categories, got {_type(categories)}")
        for cat, body in categories.items():
            if not cat.strip():
                raise r.error(("categories", cat), "an account category needs a name")
            category_limits[cat] = r.limits_table(body, ("categories", cat), ("kinds",))
            ck = body.get("kinds", {})
            r.table(ck, ("categories", cat, "kinds"), KINDS)
            for k, v in ck.items():
                category_kind_limits[(cat, k)] = r.limits_table(v, ("categories", cat, "kinds", k))

        warning = cls._read_warning(r, data.get("warning", {}))
        escalations = cls._read_escalations(r, data.get("escalation", []))
        extension = cls._read_extension(r, data.get("extension", {}))

        phrases = data.get("phrases", {})
        r.table(phrases, ("phrases",), ("closing", "forwarding"))
        closing = r.string_list(phrases, ("phrases",), "closing", [])
        forwarding = r.string_list(phrases, ("phrases",), "forwarding", [])

        cases = data.get("cases", {})
        r.table(cases, ("cases",), ("open_kinds",))
        open_kinds = r.string_list(cases, ("cases",), "open_kinds", [k for k in KINDS if k != "表扬"])
        for k in open_kinds:
            if k not in KINDS:
                raise r.error(("cases", "open_kinds"), f"unknown post kind {k!r} (known: {', '.join(KINDS)})")

        inspection = cls._read_inspection(r, data.get("inspection", {}))

        return cls(text=text, sha256=hashlib.sha256(raw).hexdigest(), source=source, version=version.strip(),
                   description=description, calendar=calendar, defaults=defaults, kind_limits=kind_limits,
                   category_limits=category_limits, category_kind_limits=category_kind_limits,
                   warning=warning, escalations=escalations, extension=extension,
                   closing_phrases=closing, forward_phrases=forwarding, open_kinds=set(open_kinds),
                   inspection=inspection)

    @staticmethod
    def _read_inspection(r: _Reader, ins: Any) -> InspectionRules:
        """[inspection]: silence_warning, silence_breach (calendar or working days), comment_cases (true/false),
        comment_window, link_check_interval, and [inspection.categories."<category>"] silence limits."""
        path = ("inspection",)
        r.table(ins, path, ("silence_warning", "silence_breach", "comment_cases", "comment_kinds", "comment_window",
                            "link_check_interval", "categories"))

        def limit(body: dict, where: tuple, key: str, default: Limit) -> Limit:
            if key not in body:
                return default
            value = r.limit(body[key], (*where, key))
            if value is None:
                raise r.error((*where, key), 'needs a limit, e.g. "14 calendar days" ("none" is not allowed here)')
            return value

        def pair(body: dict, where: tuple, warning0: Limit, breach0: Limit) -> tuple[Limit, Limit]:
            warning = limit(body, where, "silence_warning", warning0)
            breach = limit(body, where, "silence_breach", breach0)
            if (warning.unit, warning.basis) == (breach.unit, breach.basis) and warning.amount > breach.amount:
                raise r.error((*where, "silence_warning"), f"the warning ({warning}) must not come after the breach ({breach})")
            return warning, breach

        warning, breach = pair(ins, path, DEFAULT_SILENCE_WARNING, DEFAULT_SILENCE_BREACH)
        cats = ins.get("categories", {})
        if not isinstance(cats, dict):
            raise r.error((*path, "categories"), f"expected a table of account categories, got {_type(cats)}")
        per_cat = []
        for cat, body in cats.items():
            where = (*path, "categories", cat)
            r.table(body, where, ("silence_warning", "silence_breach"))
            per_cat.append((cat, *pair(body, where, warning, breach)))
        switch = ins.get("comment_cases", True)
        if not isinstance(switch, bool):
            raise r.error((*path, "comment_cases"), f"expected true or false, got {_type(switch)}")
        kinds = r.string_list(ins, path, "comment_kinds", list(DEFAULT_COMMENT_KINDS))
        for k in kinds:
            if k not in KINDS:
                raise r.error((*path, "comment_kinds"), f"unknown post kind {k!r} (known: {', '.join(KINDS)})")
        return InspectionRules(silence_warning=warning, silence_breach=breach, category_silence=tuple(per_cat),
                               comment_cases=switch, comment_kinds=tuple(kinds),
                               comment_window=limit(ins, path, "comment_window", DEFAULT_COMMENT_WINDOW),
                               link_check_interval=limit(ins, path, "link_check_interval", DEFAULT_LINK_INTERVAL))

    @staticmethod
    def _read_calendar(r: _Reader, cal: Any, source: str, calendar_file: Path | None = None) -> WorkingCalendar:
        from matrix.rules.notices import CalendarFile, NoticeError

        try:
            book = CalendarFile.load(calendar_file) if calendar_file is not None else None
        except NoticeError as exc:
            raise PolicyError(str(exc), source=str(calendar_file)) from None
        notice_days, notice_sources, notice_names = book.days() if book is not None else ({}, {}, {})
        path = ("calendar",)
        r.table(cal, path, ("timezone", "work_hours", "extra_workdays", "extra_holidays"))
        tz = r.string(cal, path, "timezone", "Asia/Shanghai")
        hours_raw = r.string_list(cal, path, "work_hours", [f"{s}-{e}" for s, e in (("08:30", "12:00"), ("13:30", "17:30"))])
        blocks = []
        for item in hours_raw:
            parts = item.replace("–", "-").split("-")
            if len(parts) != 2:
                raise r.error((*path, "work_hours"), f"bad time block {item!r}: write blocks like \"08:30-12:00\"")
            for part in parts:
                try:
                    parse_clock(part)
                except ValueError as exc:
                    raise r.error((*path, "work_hours"), f"bad time in {item!r}: {exc}") from None
            blocks.append((parts[0].strip(), parts[1].strip()))
        days: dict[str, list[date]] = {}
        for key in ("extra_workdays", "extra_holidays"):
            value = cal.get(key, [])
            if not isinstance(value, list):
                raise r.error((*path, key), f"expected a list of dates like [2027-01-01], got {_type(value)}")
            out = []
            for item in value:
                if isinstance(item, datetime):
                    raise r.error((*path, key), f"{item} has a time of day; give dates only, like 2027-01-01")
                if isinstance(item, date):
                    out.append(item)
                    continue
                try:
                    out.append(date.fromisoformat(str(item)) if isinstance(item, str) else None)
                except ValueError:
                    out.append(None)
                if out[-1] is None:
                    raise r.error((*path, key), f"{item!r} is not a date; write dates like 2027-01-01")
            days[key] = out
        try:
            calendar = WorkingCalendar(work_hours=blocks, extra_workdays=days["extra_workdays"],
                                       extra_holidays=days["extra_holidays"], tz=tz, source=source,
                                       notice_days=notice_days, notice_sources=notice_sources,
                                       notice_names=notice_names)
            calendar.calendar_file = calendar_file
            calendar.calendar_version = book.version if book is not None else 0
            return calendar
        except CalendarError as exc:
            if notice_days and " in " in str(exc) and "remove one of the two" in str(exc):
                raise r.error((*path, "extra_holidays"), str(exc)) from None
            key = "timezone" if "time zone" in str(exc) else (
                "work_hours" if "hours" in str(exc) or "block" in str(exc) else "extra_holidays")
            raise r.error((*path, key), str(exc)) from None

    @staticmethod
    def _read_warning(r: _Reader, w: Any) -> WarningRule:
        path = ("warning",)
        r.table(w, path, ("at_fraction", "before"))
        frac = w.get("at_fraction")
        if frac is not None:
            if isinstance(frac, bool) or not isinstance(frac, (int, float)):
                raise r.error((*path, "at_fraction"), f"expected a number between 0 and 1, got {_type(frac)}")
            if not 0 < frac < 1:
                raise r.error((*path, "at_fraction"), f"must be between 0 and 1 (e.g. 0.75 = warn when 75% of the time is used), got {frac}")
        before = r.limit(w["before"], (*path, "before")) if "before" in w else None
        return WarningRule(at_fraction=float(frac) if frac is not None else None, before=before)

    @staticmethod
    def _read_escalations(r: _Reader, items: Any) -> tuple[Escalation, ...]:
        if not isinstance(items, list):
            raise r.error(("escalation",), f"expected [[escalation]] tables, got {_type(items)}")
        out: list[Escalation] = []
        for i, item in enumerate(items):
            path = ("escalation", i)
            r.table(item, path, ("name", "after"))
            name = r.string(item, path, "name").strip()
            if name in RESERVED_LEVELS:
                raise r.error((*path, "name"), f"{name!r} is reserved; pick a name like 催办 or 通报")
            if any(e.name == name for e in out):
                raise r.error((*path, "name"), f"level {name!r} is listed twice")
            after = r.limit(r.string(item, path, "after"), (*path, "after"))
            if after is None:
                raise r.error((*path, "after"), 'an escalation needs an offset after the deadline, e.g. "0 working days"')
            prev = out[-1].after if out else None
            if prev and (prev.basis, prev.unit) == (after.basis, after.unit) and after.amount < prev.amount:
                raise r.error((*path, "after"), f"levels must come in order: {after} is earlier than {out[-1].name}'s {out[-1].after}")
            out.append(Escalation(name=name, after=after))
        return tuple(out)

    @staticmethod
    def _read_extension(r: _Reader, e: Any) -> Extension:
        path = ("extension",)
        r.table(e, path, ("cutoff", "cap_working_days"))
        cutoff = None
        if "cutoff" in e:
            raw = r.string(e, path, "cutoff")
            if raw.strip().lower() != "none":
                try:
                    minutes = parse_clock(raw)
                except ValueError as exc:
                    raise r.error((*path, "cutoff"), f"bad time: {exc}") from None
                if minutes >= 24 * 60:
                    raise r.error((*path, "cutoff"), "must be before 24:00")
                cutoff = time(minutes // 60, minutes % 60)
        cap = e.get("cap_working_days", 0)
        if isinstance(cap, bool) or not isinstance(cap, int):
            raise r.error((*path, "cap_working_days"), f"expected a whole number of working days, got {_type(cap)}")
        if cap < 0:
            raise r.error((*path, "cap_working_days"), f"negative amount {cap}: use 0 to allow no extensions")
        return Extension(cutoff=cutoff, cap_working_days=cap)

    # ------------------------------------------------------------------ limits

    def limits(self, kind: str, category: str | None = None) -> Limits:
        """Limits for a post kind to an account category; most specific wins, clock by clock:
        [defaults] < [kinds.K] < [categories.C] < [categories.C.kinds.K]. Unknown categories get
        the kind's limits; an unknown kind is a ValueError."""
        key = (kind, category)
        cached = self._limits_cache.get(key)
        if cached is not None:
            return cached
        if kind not in KINDS:
            raise ValueError(f"unknown post kind {kind!r} (known: {', '.join(KINDS)})")
        merged = {c: getattr(self.defaults, c) for c in CLOCKS}
        merged.update(self._kind_limits.get(kind, {}))
        if category is not None:
            merged.update(self._category_limits.get(category, {}))
            merged.update(self._category_kind_limits.get((category, kind), {}))
        result = Limits(**merged)
        self._limits_cache[key] = result
        return result

    def opens_case(self, kind: str) -> bool:
        return kind in self.open_kinds

    # ------------------------------------------------------------------ clocks

    def _plan(self, limit: Limit) -> tuple[int, int]:
        """(how, amount) for a limit: 0 = close of business after N working days (amount = N),
        1 = working µs, 2 = calendar µs."""
        plan = self._plans.get(limit)
        if plan is None:
            if limit.basis == "working":
                plan = (0, limit.amount) if limit.unit == "days" else (1, limit.minutes * _US_PER_MIN)
            else:
                per = {"minutes": _US_PER_MIN, "hours": 60 * _US_PER_MIN, "days": _US_PER_DAY}[limit.unit]
                plan = (2, limit.amount * per)
            self._plans[limit] = plan
        return plan

    def _deadline_lus(self, x: int, limit: Limit, extension_days: int = 0) -> int:
        cal = self.calendar
        how, amount = self._plan(limit)
        if how == 0:
            # close of business N working days on depends only on the day and on before/after closing:
            # cached, since a recomputation asks it for every case
            day, us = divmod(x, _US_PER_DAY)
            key = (day, us < cal.close_of_business_us, amount, extension_days)
            hit = self._cob_cache.get(key)
            if hit is not None:
                return hit
            x = cal.close_of_business_lus(x, amount)
        elif how == 1:
            x = cal.add_working_lus(x, amount) if amount else x
        else:
            x += amount
        if extension_days:
            if extension_days < 0:
                raise ValueError(f"extension_days must not be negative, got {extension_days}")
            days = min(extension_days, self.extension.cap_working_days)
            if days:
                x = cal.add_working_lus(x, days * cal.minutes_per_day * _US_PER_MIN)
        if how == 0:
            if len(self._cob_cache) > 200_000:
                self._cob_cache.clear()
            self._cob_cache[key] = x
        return x

    def deadline(self, start: datetime, limit: Limit, extension_days: int = 0) -> datetime:
        """When `limit` runs out for something received at `start` (aware, in the policy's zone).

        Extension days beyond `extension.cap_working_days` count as the cap."""
        cal = self.calendar
        return cal.from_lus(self._deadline_lus(cal.lus(start), limit, extension_days))

    def _after_lus(self, x: int, offset: Limit) -> int:
        how, amount = self._plan(offset)
        if how == 0:
            amount *= self.calendar.minutes_per_day * _US_PER_MIN
        elif how == 2:
            return x + amount
        return self.calendar.add_working_lus(x, amount) if amount else x

    def after(self, t: datetime, offset: Limit) -> datetime:
        """`t` moved on by `offset`; working days count as whole working days of working time."""
        cal = self.calendar
        return cal.from_lus(self._after_lus(cal.lus(t), offset))

    def working_minutes(self, start: datetime, end: datetime) -> int:
        """Whole working minutes in [start, end); negative when end is before start."""
        return self.calendar.working_minutes_between(start, end)

    def calendar_minutes(self, start: datetime, end: datetime) -> int:
        """Whole calendar minutes from start to end, truncated towards zero."""
        us = (_aware(end) - _aware(start)) // timedelta(microseconds=1)
        return us // 60_000_000 if us >= 0 else -((-us) // 60_000_000)

    def is_working_time(self, t: datetime) -> bool:
        return self.calendar.is_working_time(t)

    # ------------------------------------------------------------------ levels

    def _warning_lus(self, xs: int, xd: int, basis: str) -> int | None:
        cal = self.calendar
        w = self.warning
        point: int | None = None
        if w.at_fraction is not None:
            total = cal.working_lus_between(xs, xd) if basis == "working" else 0
            if total > 0:
                # the earliest instant with at_fraction of the working time used
                point = cal.add_working_lus(xs, math.ceil(total * w.at_fraction))
            else:
                point = xs + math.ceil((xd - xs) * w.at_fraction)
        if w.before is not None:
            how, amount = self._plan(w.before)
            if how == 2:
                p = xd - amount
            else:
                if how == 0:
                    amount *= cal.minutes_per_day * _US_PER_MIN
                p = cal.subtract_working_lus(xd, amount) if amount else xd
            point = p if point is None else min(point, p)
        if point is None:
            return None
        return point if point > xs else xs

    def warning_at(self, start: datetime, due: datetime, basis: str = "working") -> datetime | None:
        """The instant the warning level starts (never before `start`), or None if none is configured.

        `at_fraction` is measured on working time (basis "working") or calendar time ("calendar");
        a window without any working time falls back to calendar time."""
        cal = self.calendar
        x = self._warning_lus(cal.lus(start), cal.lus(due), basis)
        return None if x is None else cal.from_lus(x)

    def clock(self, start: datetime, limit: Limit, extension_days: int = 0) -> Clock:
        """Deadline, warning point and escalation points of `limit` started at `start`, at once."""
        cal = self.calendar
        xs = cal.lus(start)
        xd = self._deadline_lus(xs, limit, extension_days)
        w = self._warning_lus(xs, xd, limit.basis)
        return Clock(
            start=cal.from_lus(xs),
            due=cal.from_lus(xd),
            warning_at=None if w is None else cal.from_lus(w),
            escalations=tuple((e.name, cal.from_lus(self._after_lus(xd, e.after))) for e in self.escalations),
        )

    def escalation_times(self, due: datetime) -> list[tuple[str, datetime]]:
        """Each escalation level with the instant after which it is reached (strictly after)."""
        cal = self.calendar
        xd = cal.lus(due)
        return [(e.name, cal.from_lus(self._after_lus(xd, e.after))) for e in self.escalations]

    def level(self, due: datetime, now: datetime, start: datetime, basis: str = "working") -> str:
        """The highest level reached at `now`: "", "warning", "overdue" or an escalation name.

        "overdue" and escalations are reached strictly after the deadline (plus offset); "warning"
        from `warning_at` up to the deadline. `basis` says how to measure the fraction for the
        warning (pass the limit's basis; working time by default)."""
        cal = self.calendar
        return self.level_lus(cal.lus(due), cal.lus(now), cal.lus(start), basis)

    def level_lus(self, xd: int, xn: int, xs: int, basis: str = "working") -> str:
        """`level` on local microseconds (see `WorkingCalendar.lus`); the case engine's bulk path.

        Escalation points depend only on the deadline, and many cases share one (close of business),
        so they are cached per deadline."""
        if xn > xd:
            points = self._escalation_cache.get(xd)
            if points is None:
                points = tuple((e.name, self._after_lus(xd, e.after)) for e in reversed(self.escalations))
                if len(self._escalation_cache) > 100_000:
                    self._escalation_cache.clear()
                self._escalation_cache[xd] = points
            for name, x in points:
                if xn > x:
                    return name
            return "overdue"
        if xn < xs:
            return ""
        w = self._warning_lus(xs, xd, basis)
        return "warning" if w is not None and xn >= w else ""

    def deadline_lus(self, x: int, limit: Limit, extension_days: int = 0) -> int:
        """`deadline` on local microseconds."""
        return self._deadline_lus(x, limit, extension_days)

    # ------------------------------------------------------------------ extensions & phrases

    def extension_cutoff(self, due: datetime) -> datetime:
        """The last instant (exclusive) an extension request for `due` is accepted."""
        cal = self.calendar
        xd = cal.lus(due)
        if self.extension.cutoff is None:
            return cal.from_lus(xd)
        c = self.extension.cutoff
        cut = xd - xd % _US_PER_DAY + (c.hour * 60 + c.minute) * _US_PER_MIN
        return cal.from_lus(min(cut, xd))

    def extension_allowed(self, due: datetime, requested_at: datetime) -> bool:
        """True when a request at `requested_at` arrives before the cut-off on the deadline day
        (and before the deadline) and the policy allows extensions at all."""
        if self.extension.cap_working_days <= 0:
            return False
        return _aware(requested_at) < self.extension_cutoff(due)

    def is_closing(self, text: str) -> bool:
        """Whether a reply says the matter is done (one of the closing phrases occurs in it)."""
        return bool(self._closing_re and self._closing_re.search(text or ""))

    def is_forward(self, text: str) -> bool:
        """Whether a coordinator's text forwards (转办) the post; `*` or `…` in a phrase matches up to 20 characters."""
        return bool(self._forward_re and self._forward_re.search(text or ""))

    # ------------------------------------------------------------------ display

    def describe(self) -> dict:
        """Everything the policy says, as plain data for display."""
        kinds = {k: self.limits(k).as_dict() for k in KINDS}
        cats = {c: {k: self.limits(k, c).as_dict() for k in KINDS} for c in sorted(self.categories)}
        return {
            "version": self.version,
            "description": self.description,
            "sha256": self.sha256,
            "source": self.source,
            "calendar": self.calendar.describe(),
            "limits": kinds,
            "category_limits": cats,
            "warning": {
                "at_fraction": self.warning.at_fraction,
                "before": str(self.warning.before) if self.warning.before else None,
            },
            "escalation": [{"name": e.name, "after": str(e.after)} for e in self.escalations],
            "extension": {
                "cutoff": self.extension.cutoff.strftime("%H:%M") if self.extension.cutoff else None,
                "cap_working_days": self.extension.cap_working_days,
            },
            "closing_phrases": list(self.closing_phrases),
            "forward_phrases": list(self.forward_phrases),
            "open_kinds": [k for k in KINDS if k in self.open_kinds],
            "inspection": {
                "silence_warning": str(self.inspection.silence_warning),
                "silence_breach": str(self.inspection.silence_breach),
                "category_silence": {c: {"silence_warning": str(w), "silence_breach": str(b)}
                                     for c, w, b in self.inspection.category_silence},
                "comment_cases": self.inspection.comment_cases,
                "comment_kinds": list(self.inspection.comment_kinds),
                "comment_window": str(self.inspection.comment_window),
                "link_check_interval": str(self.inspection.link_check_interval),
                "rule": self.inspection.rule,
            },
        }

    def __repr__(self) -> str:
        return f"Policy(version={self.version!r}, sha256={self.sha256[:12]}…, source={self.source!r})"


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=timezone.utc)


def _phrase_regex(phrase: str) -> str:
    parts = re.split(r"\*|…+|\.\.\.", phrase)
    return ".{0,20}?".join(re.escape(p) for p in parts)
