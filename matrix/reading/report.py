"""The weekly 通报: rankings of a period as Markdown (to publish) and CSV (to work with).

Every number comes from `matrix.reading.rankings.period_rankings`, the same function behind the board and
the exports, so the 通报, the board and an export of one period never disagree.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from matrix.links import case_url, page_url
from matrix.reading.rankings import AccountRank, PeriodRankings, period_rankings
from matrix.timeutil import SHANGHAI, iso_local, local

FORMATS = ("md", "csv")
CSV_FIELDS = [
    "rank", "account_uid", "screen_name", "name", "department", "cases", "responded", "response_rate",
    "on_time_responses", "on_time_response_rate", "closed", "on_time_closed", "on_time_closure_rate",
    "median_response_working_minutes", "p90_response_working_minutes", "overdue_count", "days_overdue",
    "negative_share",
]
DEADLINE_WORDS = {"forward": "转办", "first_response": "首次响应", "closure": "办结"}
STATUS_WORDS = {
    "awaiting_forward": "待转办", "open": "待响应", "responded": "已响应未办结", "closed": "已办结",
    "invalid": "无效诉求", "merged": "已合并",
}
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


class ReportError(ValueError):
    """A period or option the report cannot use; the message says what to write instead."""


@dataclass(frozen=True)
class Period:
    """[start, end) in aware datetimes, with a label for titles and file names."""

    start: datetime
    end: datetime
    label: str  # "2026-W47" or "2026-11-16_2026-11-22"
    title: str  # "2026年第47周" or "2026-11-16 至 2026-11-22"


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=SHANGHAI)


def week_period(week: str) -> Period:
    """ISO week like 2026-W47: Monday 00:00 to the next Monday 00:00, Beijing time."""
    m = _WEEK.match(week.strip())
    if not m:
        raise ReportError(f"week {week!r} is not an ISO week; write it like 2026-W47")
    year, num = int(m.group(1)), int(m.group(2))
    try:
        monday = date.fromisocalendar(year, num, 1)
    except ValueError:
        raise ReportError(f"{year} has no week {num} (ISO weeks run 1–52 or 53)") from None
    return Period(_midnight(monday), _midnight(monday + timedelta(days=7)), f"{year}-W{num:02d}", f"{year}年第{num}周")


def last_full_week(now: datetime) -> Period:
    """The ISO week before the one `now` falls in (Beijing time)."""
    y, w, _ = (local(now).date() - timedelta(days=7)).isocalendar()
    return week_period(f"{y}-W{w:02d}")


def _parse_when(text: str, what: str) -> tuple[datetime, bool]:
    """A date (YYYY-MM-DD, Beijing time) or an ISO datetime; the flag says it was a bare date."""
    text = text.strip()
    try:
        return _midnight(date.fromisoformat(text)), True
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ReportError(f"--{what} {text!r} is not a date (2026-11-16) or a date and time (2026-11-16T08:00)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value, False


def span_period(since: str, until: str) -> Period:
    """--since/--until: dates are whole days in Beijing time and --until's day is included."""
    start, _ = _parse_when(since, "since")
    end, bare = _parse_when(until, "until")
    if bare:
        end = end + timedelta(days=1)
    if end <= start:
        raise ReportError(f"--until ({until}) must be after --since ({since})")
    first, last = local(start), local(end - timedelta(microseconds=1))
    label = f"{first:%Y-%m-%d}_{last:%Y-%m-%d}"
    return Period(start, end, label, f"{first:%Y-%m-%d} 至 {last:%Y-%m-%d}")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.2f}%"


def _num(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "—"
    return f"{x:.{digits}f}" if digits else f"{x:g}" if float(x).is_integer() else f"{x:.1f}"


def _days(x: float) -> str:
    return f"{x:.1f}"


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}" if not value.is_integer() else f"{value:.1f}"
    return value


def ranking_rows(data: PeriodRankings) -> list[dict[str, Any]]:
    """The ranking table as dicts (CSV columns), rank 1 first."""
    rows = []
    for i, r in enumerate(data.ranks, start=1):
        row = {"rank": i, **{k: getattr(r, k) for k in CSV_FIELDS if k != "rank"}}
        rows.append(row)
    return rows


def render_csv(data: PeriodRankings) -> str:
    """The ranking table as CSV (UTF-8 text; rates as fractions 0–1, minutes and days as numbers)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in ranking_rows(data):
        writer.writerow({k: _csv_value(v) for k, v in row.items()})
    return buf.getvalue()


def _who(r: AccountRank) -> str:
    who = f"@{r.screen_name}" if r.screen_name and r.screen_name != r.account_uid else r.account_uid
    return f"{who}（{r.department}）" if r.department else who


def render_markdown(data: PeriodRankings, period: Period, *, title: str = "问政银川微博矩阵响应情况通报",
                    late_limit: int = 200, board: str | None = None) -> str:
    """The 通报: title, period, summary figures, ranking table, named late accounts, overdue cases (each linked to
    its page on the board at BOARD, default WZMON_BOARD_URL)."""
    t = data.total
    names = {r.account_uid: r for r in data.ranks}
    lines = [
        f"# {title}（{period.title}）",
        "",
        f"统计期间：{local(data.start):%Y-%m-%d %H:%M} 至 {local(data.end):%Y-%m-%d %H:%M}（北京时间，含起不含止）  ",
        f"超期计算截至：{iso_local(data.now)}  ",
        f"规则版本：{data.policy_version}",
        "",
        "## 总体情况",
        "",
        f"- 受理诉求 {t.cases} 件，涉及账号 {len(data.ranks)} 个。",
        f"- 已响应 {t.responded} 件，响应率 {_pct(t.response_rate)}；按时响应 {t.on_time_responses} 件，"
        f"按时响应率 {_pct(t.on_time_response_rate)}。",
        f"- 已办结 {t.closed} 件；按时办结 {t.on_time_closed} 件，按时办结率 {_pct(t.on_time_closure_rate)}。",
        f"- 首次响应用时（工作分钟）：中位数 {_num(t.median_response_working_minutes)}，"
        f"90% 分位 {_num(t.p90_response_working_minutes)}。",
        f"- 超期诉求 {t.overdue_count} 件，合计超期 {_days(t.days_overdue)} 个工作日。",
        f"- 负面情绪诉求 {t.negative} 件，占 {_pct(t.negative_share)}。",
        "",
        "## 账号排名",
        "",
        "| 名次 | 账号 | 单位 | 诉求 | 响应 | 响应率 | 按时响应率 | 办结 | 按时办结率 | 首响中位（工作分钟） | 首响P90（工作分钟） "
        "| 超期件数 | 超期工作日 | 负面占比 |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, r in enumerate(data.ranks, start=1):
        who = f"@{r.screen_name}" if r.screen_name else r.account_uid
        lines.append(
            f"| {i} | {who} | {r.department or '—'} | {r.cases} | {r.responded} | {_pct(r.response_rate)} | "
            f"{_pct(r.on_time_response_rate)} | {r.closed} | {_pct(r.on_time_closure_rate)} | "
            f"{_num(r.median_response_working_minutes)} | {_num(r.p90_response_working_minutes)} | "
            f"{r.overdue_count} | {_days(r.days_overdue)} | {_pct(r.negative_share)} |"
        )
    if not data.ranks:
        lines.append("| — | 本期无诉求 | | | | | | | | | | | | |")
    lines += ["", "## 超期账号点名", ""]
    late_accounts = sorted((r for r in data.ranks if r.overdue_count),
                           key=lambda r: (-r.days_overdue, -r.overdue_count, r.screen_name))
    if late_accounts:
        for r in late_accounts:
            lines.append(f"- {_who(r)}：超期诉求 {r.overdue_count} 件，合计超期 {_days(r.days_overdue)} 个工作日。")
    else:
        lines.append("本期无超期账号。")
    lines += ["", "## 账号更新情况", ""]
    if data.silent:
        lines.append("以下成员账号在本期内超过2周无信息更新（国办秘函〔2019〕19号：监测时间点前2周内无信息更新，单项否决）：")
        lines.append("")
        for uid, screen_name, dept, since, longest in data.silent:
            who = f"@{screen_name}（{dept}）" if dept else f"@{screen_name}"
            state = f"期内最长 {longest:g} 天未更新" if longest is not None else "未见任何更新"
            now_state = f"，期末距上次发布 {since:g} 天" if since is not None else ""
            lines.append(f"- {who}：{state}{now_state}。")
        lines.append(f"\n详见账号巡检：{page_url(board, 'inspection')}")
    else:
        lines.append("本期成员账号均在2周内有信息更新。")
    lines += ["", "## 超期诉求清单", ""]
    if data.late_cases:
        lines += [
            "| 案件 | 账号 | 受理时间 | 超期环节 | 应完成时间 | 完成时间 | 状态 | 超期工作日 | 督办等级 |",
            "|---:|---|---|---|---|---|---|---:|---|",
        ]
        for c in data.late_cases[:late_limit]:
            r = names.get(c.account_uid)
            who = f"@{r.screen_name}" if r and r.screen_name else c.account_uid
            lines.append(
                f"| [{c.case_id}]({case_url(board, c.case_id)}) | {who} | {local(c.opened_at):%Y-%m-%d %H:%M} | {DEADLINE_WORDS.get(c.deadline, c.deadline)} | "
                f"{local(c.due):%Y-%m-%d %H:%M} | {local(c.met_at).strftime('%Y-%m-%d %H:%M') if c.met_at else '未完成'} | "
                f"{STATUS_WORDS.get(c.status, c.status)} | {_days(c.days_overdue)} | {c.overdue_level or '—'} |"
            )
        if len(data.late_cases) > late_limit:
            lines.append(f"\n（另有 {len(data.late_cases) - late_limit} 件未列出，见 CSV 与看板。）")
    else:
        lines.append("本期无超期诉求。")
    lines += [
        "",
        f"看板：{page_url(board, 'overview')}",
        "",
        "---",
        "口径：统计期内受理（立案）的诉求，不含无效诉求与被合并的重复诉求。响应率 = 已响应/诉求；按时响应率 = 在首次响应"
        "时限内响应/诉求；按时办结率 = 在办结时限内办结/诉求；超期工作日按工作日历计，未完成的计至统计截止时间。",
        "",
    ]
    return "\n".join(lines)


def build_report(
    session: Session,
    period: Period,
    *,
    now: datetime | None = None,
    policy: Any = None,
    account_uids: list[str] | None = None,
    department: str | None = None,
) -> PeriodRankings:
    """The rankings of the period (all figures of the report), and the member accounts that went without an
    update for longer than the inspection limit within it (matrix.casework.inspection)."""
    from matrix.casework.inspection import silence_in_period
    from matrix.storage.models import Account

    if policy is None:
        from matrix.rules.policy import load_policy

        policy = load_policy()
    data = period_rankings(session, period.start, period.end, account_uids, department, now=now, policy=policy)
    upto = min(data.end, data.now)
    if upto > data.start:
        months = silence_in_period(session, policy, data.start, upto, account_uids)
        accounts = {a.uid: a for a in session.query(Account).filter(Account.uid.in_(list(months)))} if months else {}
        for uid, m in months.items():
            a = accounts.get(uid)
            if m.breached and a is not None and (department is None or a.department == department):
                data.silent.append((uid, a.screen_name, a.department or "", m.days_since_last_post, m.longest_silence_days))
        data.silent.sort(key=lambda r: (-(r[4] or 1e9), r[1]))
    return data


def write_report(
    data: PeriodRankings, period: Period, out_dir: Path, formats: tuple[str, ...] = FORMATS
) -> list[Path]:
    """Write tongbao-<label>.md and/or rankings-<label>.csv into out_dir; returns the paths written."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ReportError(f"unknown format {', '.join(unknown)}: choose from {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if "md" in formats:
        path = out_dir / f"tongbao-{period.label}.md"
        path.write_text(render_markdown(data, period), encoding="utf-8")
        written.append(path)
    if "csv" in formats:
        path = out_dir / f"rankings-{period.label}.csv"
        path.write_text("\ufeff" + render_csv(data), encoding="utf-8")  # BOM: Excel opens it as UTF-8
        written.append(path)
    return written


__all__ = [
    "Period", "ReportError", "week_period", "last_full_week", "span_period", "render_markdown", "render_csv",
    "ranking_rows", "build_report", "write_report",
]
