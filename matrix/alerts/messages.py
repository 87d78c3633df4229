"""The words of an alert: short Chinese text with the case link, the post, the wait and the deadline."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from matrix.links import case_url, page_url
from matrix.timeutil import as_utc, local

LEVEL_TAG = {"warning": "预警", "overdue": "超期", "催办": "催办", "通报": "通报", "digest": "每日汇总", "test": "测试",
             "silence_warning": "更新预警", "silence_breach": "单项否决风险"}  # silence: matrix.casework.inspection
LEVEL_PHRASE = {"warning": "即将超期", "overdue": "已超期", "催办": "超期未回应，请即办理", "通报": "严重超期，予以通报"}
DUE_LABEL = {
    "forward_due": "转办时限",
    "first_response_due": "首次回应时限",
    "next_reply_due": "续复时限",
    "closure_due": "办结时限",
}
OPEN_STATUSES = ("awaiting_forward", "open", "responded")


@dataclass(frozen=True)
class CaseFacts:
    """What a message says about a case, gathered from the rows (see outbox.case_facts)."""

    case_id: int
    account: str  # "@银川公安" or the account's name
    citizen: str
    post_text: str
    waiting_since: datetime | None
    due_label: str
    due: datetime | None
    working_minutes: int | None = None


def case_link(board_url: str, case_id: int) -> str:
    """The board's page of the case ({board}/case?case=ID), from the board's own page table (matrix.links)."""
    return case_url(board_url, case_id)


def duration(seconds: float) -> str:
    """'2天3小时', '5小时10分钟', '45分钟' (rounded down to minutes; '不到1分钟' below that)."""
    minutes = int(max(seconds, 0) // 60)
    if minutes < 1:
        return "不到1分钟"
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{mins}分钟" if mins else f"{hours}小时"
    return f"{mins}分钟"


def trim(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def when(value: datetime | None) -> str:
    v = local(value)
    return v.strftime("%m-%d %H:%M") if v else "未定"


def case_alert(facts: CaseFacts, level: str, now: datetime, board_url: str, *, office_copy: bool = False) -> tuple[str, str, str]:
    """(subject, text, link) of a warning / overdue / 催办 / 通报 alert."""
    now = as_utc(now)
    tag = LEVEL_TAG.get(level, level)
    due = as_utc(facts.due)
    if due is not None and due > now:
        state = f"剩余 {duration((due - now).total_seconds())}"
    elif due is not None:
        state = f"已超期 {duration((now - due).total_seconds())}"
    else:
        state = LEVEL_PHRASE.get(level, "")
    link = case_link(board_url, facts.case_id)
    copy = "（抄送督办）" if office_copy else ""
    subject = f"【{tag}】{facts.account} 案件#{facts.case_id} {state}{copy}"
    lines = [f"【{tag}】{copy}{facts.account}：案件 #{facts.case_id} {LEVEL_PHRASE.get(level, '')}".rstrip()]
    if facts.waiting_since is not None:
        waited = duration((now - as_utc(facts.waiting_since)).total_seconds())
        work = f"（工作时间 {duration(facts.working_minutes * 60)}）" if facts.working_minutes else ""
        lines.append(f"网民 {facts.citizen or '（匿名）'} 已等待 {waited}{work}")
    if facts.post_text:
        lines.append(f"诉求：{facts.post_text}")
    lines.append(f"{facts.due_label}：{when(facts.due)}（{state}）" if facts.due else f"{facts.due_label}：未定")
    lines.append(f"查看处理：{link}")
    return subject, "\n".join(lines), link


@dataclass(frozen=True)
class DigestLine:
    case_id: int
    account: str
    overdue: bool
    due_label: str
    due: datetime | None
    post_text: str


def account_digest(account: str, day: str, lines: list[DigestLine], now: datetime, board_url: str,
                   max_lines: int = 10) -> tuple[str, str]:
    """(subject, text) of one account's daily digest: its open cases, overdue first."""
    overdue = sum(1 for line in lines if line.overdue)
    subject = f"【每日汇总】{account} {day}：待办 {len(lines)} 件，超期 {overdue} 件"
    body = [subject]
    ordered = sorted(lines, key=lambda l: (not l.overdue, as_utc(l.due) or now))
    for line in ordered[:max_lines]:
        due = as_utc(line.due)
        state = (f"超期 {duration((now - due).total_seconds())}" if line.overdue and due and due <= now
                 else f"{line.due_label} {when(due)}")
        body.append(f"· #{line.case_id} {state} {line.post_text} {case_link(board_url, line.case_id)}")
    if len(ordered) > max_lines:
        body.append(f"另有 {len(ordered) - max_lines} 件，详见看板")
    body.append(f"看板：{page_url(board_url, 'overview')}")
    return subject, "\n".join(body)


def office_digest(day: str, per_account: list[tuple[str, int, int]], board_url: str, max_lines: int = 30,
                  calendar_notes: list[str] | None = None) -> tuple[str, str]:
    """(subject, text) of the office digest: open and overdue counts per account, worst first; then what the
    office must know about the working calendar (时限待定 and provisional deadlines, the calendar running out)."""
    total = sum(n for _a, n, _o in per_account)
    overdue = sum(o for _a, _n, o in per_account)
    subject = f"【每日汇总·督办】{day}：{len(per_account)} 个账号待办 {total} 件，超期 {overdue} 件"
    body = [subject]
    ordered = sorted(per_account, key=lambda r: (-r[2], -r[1], r[0]))
    for account, n, o in ordered[:max_lines]:
        body.append(f"· {account}：待办 {n} 件，超期 {o} 件")
    if len(ordered) > max_lines:
        body.append(f"另有 {len(ordered) - max_lines} 个账号，详见看板")
    body.extend(calendar_notes or [])
    body.append(f"超期案件：{page_url(board_url, 'overdue')}")
    body.append(f"看板：{page_url(board_url, 'overview')}")
    return subject, "\n".join(body)


def calendar_notes(pending: int, provisional: int, warning: str) -> list[str]:
    """The office digest's lines about the working calendar (none when there is nothing to say)."""
    out = []
    if pending:
        out.append(f"时限待定：{pending} 件在办案件有时限无法计算，请导入放假通知（wzmon calendar import notice.txt）")
    if provisional:
        out.append(f"暂定时限：{provisional} 件在办案件的时限按法定节假日推算（尚无当年放假通知，未含调休）")
    if warning:
        out.append(f"工作日历：{warning}")
    return out


def test_message(account: str, now: datetime, board_url: str) -> tuple[str, str]:
    subject = f"【测试】{account} 超期提醒通道测试"
    text = f"【测试】这是问政监测发给 {account} 的测试消息，收到即表示本通道可用。\n发送时间：{when(now)}\n看板：{board_url}"
    return subject, text
