"""Pieces every page shares: sign-in, the crawler banner, the period picker, safe text, tables."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import auth, data
from matrix.timeutil import SHANGHAI

USER_KEY = "wzmon_user"
DEMO_NOTICE = "未配置登录 (demo)：所有人以问政办身份查看全部数据。用 `wzmon users add` 建用户并以 --users 启动以开启登录。"

STATUS_ZH = {
    "awaiting_forward": "待转办", "open": "待首复", "responded": "已回复", "closed": "已办结",
    "invalid": "无效诉求", "merged": "已合并",
}
LEVEL_ZH = {"": "", "warning": "预警", "overdue": "超期", "催办": "催办", "通报": "通报",
            "silence_warning": "更新预警", "silence_breach": "单项否决风险"}  # the last two: 账号巡检 alerts
SOURCE_ZH = {"case": "案件原帖", "comment": "评论/转发"}
HEALTH_ZH = {
    "ok": "正常", "blocked": "被限制", "login_required": "需要登录", "empty": "空结果", "malformed": "格式异常",
    "transport": "网络错误", "parse_warning": "解析警告", "no_route": "无可用通道", "": "",
}
COLUMNS_ZH = {
    "case_id": "案件", "account_uid": "账号UID", "screen_name": "账号", "account_name": "单位", "name": "单位",
    "department": "部门", "kind": "类别", "status": "状态", "overdue": "超期", "overdue_level": "等级",
    "opened_at": "开启时间", "due": "当前时限", "overdue_since": "超期起始", "first_response_at": "首次回复",
    "citizen_name": "市民", "sentiment_label": "情感", "text": "内容", "days_overdue": "超期天数",
    "created_at": "时间", "source": "来源", "author": "作者", "sentiment_score": "情感分", "post_id": "帖子ID",
    "role": "角色", "cases": "案件数", "open": "未办结", "responded": "已回复", "closed": "已办结",
    "response_rate": "响应率", "on_time_response_rate": "按时响应率",
    "median_response_working_minutes": "响应中位数(工作分钟)", "negative_share": "负面占比",
    "level": "等级", "channel": "渠道", "address": "地址", "subject": "主题", "attempts": "尝试次数",
    "sent_at": "发送时间", "last_error": "最近错误", "deadline_note": "时限说明",
}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


def md_escape(value: Any) -> str:
    """Text made inert for st.markdown-rendered places (labels, captions): no links, no emphasis, no HTML."""
    return _MD_SPECIAL.sub(r"\\\1", str(value if value is not None else "")).replace("\n", " ")


def pct(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value * 100:.1f}%"


def minutes(value: float | None) -> str:
    if value is None or pd.isna(value):
        return "—"
    value = float(value)
    if value < 60:
        return f"{value:.0f} 分钟"
    if value < 60 * 24:
        return f"{value / 60:.1f} 小时"
    return f"{value / 60 / 8:.1f} 工作日"


def local_text(value: Any) -> str:
    if value is None or value is pd.NaT or (not isinstance(value, datetime) and pd.isna(value)):
        return ""
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.tz_convert(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def localize(df: pd.DataFrame) -> pd.DataFrame:
    """Datetime columns shown in Asia/Shanghai wall time (naive, so the grid shows no offset)."""
    df = df.copy()
    for c in df.columns:
        if isinstance(df[c].dtype, pd.DatetimeTZDtype):
            df[c] = df[c].dt.tz_convert(SHANGHAI).dt.tz_localize(None)
    return df


# ------------------------------------------------------------------------------------------- sign-in


def users_config() -> auth.UsersConfig | None:
    """The users file in force, None in demo mode; a broken file stops the app with the reason."""
    path = auth.users_path_from_env()
    if path is None:
        return None
    try:
        return auth.load_users(path)
    except auth.UsersFileError as exc:
        st.error("登录配置有误，看板不可用。")
        st.text(str(exc))
        st.stop()
    return None  # unreachable


def current_user() -> auth.User:
    user = st.session_state.get(USER_KEY)
    if user is None:  # pages are only run after sign_in(); keep a safe default anyway
        st.stop()
    return user


def scope() -> tuple[str, ...] | None:
    return current_user().scope


def _oidc_user(config: auth.UsersConfig) -> auth.User | None:
    if not config.oidc_enabled:
        return None
    try:
        logged_in = bool(st.user.is_logged_in)
    except Exception:  # noqa: BLE001 - [auth] not configured: OIDC is simply not offered
        return None
    if not logged_in:
        return None
    email = str(st.user.get("email", "") or "")
    user = config.by_email(email)
    if user is None:
        st.title("问政监测看板 · 登录")
        st.error("此单点登录账号未在用户文件中登记，无权查看。请联系问政办登记该邮箱。")
        st.text(f"单点登录邮箱：{email or '（身份提供方未给出邮箱）'}")  # st.text: no markdown, no mailto link
        if st.button("退出单点登录"):
            st.logout()
        st.stop()
    return user


def sign_in(pages: list[Any] | None = None) -> auth.User:
    """The signed-in user; renders the sign-in form and stops the run until someone signs in.

    `pages` are registered (hidden, not run) while the form shows, so a link like /case?case=12 still
    leads to that page once the user has signed in.
    """
    config = users_config()
    if config is None:
        user = auth.User(name="demo", role="office", display_name="demo (问政办)")
        st.session_state[USER_KEY] = user
        st.warning(DEMO_NOTICE, icon=":material/lock_open:")
        return user
    user = st.session_state.get(USER_KEY)
    if user is not None and config.user(user.name) is None and config.by_email(user.email) is None:
        user = None  # removed from the file since signing in
    if user is None:
        user = _oidc_user(config)
    if user is not None:
        # re-read role and accounts each run: edits to the users file apply at once
        user = config.user(user.name) or user
        st.session_state[USER_KEY] = user
        return user
    if pages:
        st.navigation(pages, position="hidden")
    st.title("问政监测看板 · 登录")
    with st.form("login"):
        name = st.text_input("用户名", key="login_name")
        password = st.text_input("密码", type="password", key="login_password")
        submitted = st.form_submit_button("登录", type="primary")
    if submitted:
        if auth.locked_out(name):
            st.error("失败次数过多，请一分钟后再试。")
        else:
            found = auth.authenticate(config, name, password)
            if found is None:
                st.error("用户名或密码错误。")
            else:
                st.session_state[USER_KEY] = found
                st.rerun()
    if config.oidc_enabled:
        provider = str(config.oidc.get("provider", "") or "")
        if st.button("单点登录 (OIDC)"):
            if provider:
                st.login(provider)
            else:
                st.login()
    st.stop()
    raise AssertionError("unreachable")


def sign_out_button(user: auth.User) -> None:
    st.sidebar.caption(f"当前用户：{md_escape(user.label)} · {'问政办（全部账号）' if user.is_office else '成员账号'}")
    if auth.users_path_from_env() is None:
        return
    if st.sidebar.button("退出登录", key="logout"):
        st.session_state.pop(USER_KEY, None)
        try:
            oidc = bool(st.user.is_logged_in)
        except Exception:  # noqa: BLE001 - no OIDC configured
            oidc = False
        if oidc:
            # the browser goes to /auth/logout (clears the sign-in cookie) and comes back to a new
            # session; st.rerun() here would drop that redirect and leave the cookie signed in
            st.logout()
            st.stop()
        st.rerun()


# ------------------------------------------------------------------------------------ banner, period

def crawler_banner() -> None:
    """A red banner when the crawler is blocked or logged out (shown on every page)."""
    try:
        alarm = data.q("crawler_alarm")
    except Exception as exc:  # noqa: BLE001 - the board must still show why
        st.error(f"数据库不可用：{md_escape(exc)}")
        st.stop()
    routes_banner()
    if not alarm:
        return
    what = "采集被微博限制（封禁/限流）" if alarm["state"] == "blocked" else "采集账号已掉线，需要重新登录"
    parts = [f"{what}：自 {local_text(alarm['at'])} 起"]
    if alarm.get("http_status"):
        parts.append(f"HTTP {alarm['http_status']}")
    if alarm.get("cooldown_until"):
        parts.append(f"冷却至 {local_text(alarm['cooldown_until'])}")
    if alarm.get("message"):
        parts.append(md_escape(alarm["message"])[:200])
    parts.append("数据可能不完整。")
    st.error("；".join(parts), icon=":material/block:")


ROUTE_NAMES = {"mobile": "移动端接口 m.weibo.cn", "pc": "网页版接口 weibo.com/ajax", "search": "微博搜索 s.weibo.com"}
ROUTE_FIX = {
    "mobile": "采集已改走网页版接口和搜索；若持续，请重新登录采集账号（wzmon login）或调低请求频率",
    "pc": "需要登录：请重新登录采集账号（wzmon login）；采集已改走移动端接口",
    "search": "需要登录：请重新登录采集账号（wzmon login）；@提及已改走移动端搜索",
}


def routes_banner() -> None:
    """A banner per Weibo route closed an hour or more (crawler.routes), naming the route and what to do."""
    for r in data.q("closed_route_alarm"):
        name = ROUTE_NAMES.get(r["route"], r["route"])
        st.warning(f"采集线路被微博关闭：{md_escape(name)}，自 {local_text(r['since'])} 起；"
                   f"{ROUTE_FIX.get(r['route'], '请检查采集账号')}。", icon=":material/alt_route:")


def calendar_banner() -> None:
    """A banner (总览, 采集状态) from 60 days before the official holiday calendar ends, naming the fix."""
    state = data.q("calendar_state", account_uids=scope())
    if state.get("warning"):
        ran_out = (state.get("days_left") or 0) < 0
        st.warning(f"{'工作日历已用尽' if ran_out else '工作日历即将用尽'}：{md_escape(state['warning'])}",
                   icon=":material/calendar_month:")
    if state.get("pending"):
        st.error(f"{state['pending']:,} 件在办案件有时限无法计算（时限待定），请导入放假通知：wzmon calendar import notice.txt",
                 icon=":material/event_busy:")


PERIODS = ["近7天", "近30天", "近90天", "本月", "今天", "自定义"]


def data_today() -> date:
    return data.q("data_now").astimezone(SHANGHAI).date()


def preset_period(choice: str, today: date) -> tuple[date, date]:
    if choice == "今天":
        return today, today
    if choice == "近30天":
        return today - timedelta(days=29), today
    if choice == "近90天":
        return today - timedelta(days=89), today
    if choice == "本月":
        return today.replace(day=1), today
    return today - timedelta(days=6), today


def other_periods() -> list[tuple[date, date]]:
    """The preset periods other than the one shown (what a user is likely to pick next)."""
    today = data_today()
    now = period()
    return [p for p in (preset_period(c, today) for c in PERIODS if c != "自定义") if p != now]


def sidebar_period() -> None:
    """The period picker, shared by all pages (kept in session state)."""
    today = data_today()
    choice = st.sidebar.selectbox("统计期间", PERIODS, key="period_choice")
    if choice != "自定义":
        start, end = preset_period(choice, today)
    else:
        picked = st.sidebar.date_input(
            "起止日期", value=(today - timedelta(days=6), today), key="period_custom", max_value=today + timedelta(days=1)
        )
        if isinstance(picked, tuple) and len(picked) == 2:
            start, end = picked
        else:
            start = end = picked[0] if isinstance(picked, tuple) and picked else today
    st.session_state["period"] = (start, end)
    st.sidebar.caption(f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}（数据时间 {today:%Y-%m-%d}）")


def period() -> tuple[date, date]:
    value = st.session_state.get("period")
    if value is None:
        today = data_today()
        return today - timedelta(days=6), today
    return value


# ----------------------------------------------------------------------------------------- tables


def account_options() -> pd.DataFrame:
    return data.q("accounts", account_uids=scope())


def account_filters(key: str, *, levels: bool = True, kinds: bool = True) -> dict[str, Any]:
    """Filter widgets for case lists: account, department, kind, level. Returns query kwargs."""
    roster = account_options()
    labels = {r.uid: f"{r.screen_name}（{r.department or r.name or r.uid}）" for r in roster.itertuples()}
    cols = st.columns(4 if levels else 3)
    picked = cols[0].multiselect("账号", list(labels), format_func=lambda u: labels.get(u, u), key=f"{key}_acc")
    depts = sorted({d for d in roster["department"].tolist() if d})
    dept = cols[1].multiselect("部门", depts, key=f"{key}_dept")
    out: dict[str, Any] = {"accounts": tuple(picked), "department": tuple(dept)}
    if kinds:
        from matrix.reading.queries import KINDS

        out["kind"] = tuple(cols[2].multiselect("类别", list(KINDS), key=f"{key}_kind"))
    if levels:
        from matrix.reading.queries import LEVELS

        out["level"] = tuple(
            cols[3].multiselect("等级", list(LEVELS), format_func=lambda v: LEVEL_ZH.get(v, v), key=f"{key}_level")
        )
    return out


def case_table(df: pd.DataFrame, key: str, columns: list[str], height: int | None = None) -> int | None:
    """A sortable case grid; selecting a row opens that case. Returns the selected case id, if any."""
    view = localize(df)
    if "status" in view:
        view["status"] = view["status"].map(lambda s: STATUS_ZH.get(s, s))
    if "overdue_level" in view:
        view["overdue_level"] = view["overdue_level"].map(lambda s: LEVEL_ZH.get(s, s))
    if "source" in view:
        view["source"] = view["source"].map(lambda s: SOURCE_ZH.get(s, s))
    view = view[[c for c in columns if c in view.columns]]
    config: dict[str, Any] = {c: st.column_config.Column(COLUMNS_ZH.get(c, c)) for c in view.columns}
    for c in ("opened_at", "due", "overdue_since", "first_response_at", "created_at", "sent_at"):
        if c in view:
            config[c] = st.column_config.DatetimeColumn(COLUMNS_ZH[c], format="YYYY-MM-DD HH:mm")
    if "case_id" in view:
        config["case_id"] = st.column_config.NumberColumn("案件", format="%d")
    if "text" in view:
        config["text"] = st.column_config.TextColumn("内容", width="large")
    if "days_overdue" in view:
        config["days_overdue"] = st.column_config.NumberColumn("超期天数", format="%.1f")
    if "sentiment_score" in view:
        config["sentiment_score"] = st.column_config.NumberColumn("情感分", format="%.2f")
    event = st.dataframe(
        view,
        hide_index=True,
        width="stretch",
        column_config=config,
        on_select="rerun",
        selection_mode="single-row",
        key=key,
        height=min(height, 38 + 35 * max(len(view), 1)) if height else "auto",
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        value = view.iloc[rows[0]].get("case_id")
        if value is not None and not pd.isna(value):
            return int(value)
    return None


def open_case(case_id: int) -> None:
    st.switch_page("views/case.py", query_params={"case": str(int(case_id))})


def open_case_box(key: str) -> None:
    """A small "go to case #" control, for keyboards and tests."""
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    value = c1.number_input("案件编号", min_value=1, step=1, value=None, key=f"{key}_goto", placeholder="输入案件编号")
    if c2.button("打开案件", key=f"{key}_goto_btn") and value:
        open_case(int(value))
