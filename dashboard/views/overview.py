"""总览: the morning glance — headline figures against the previous period, overdue first, then negative."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, ui

start, end = ui.period()
scope = ui.scope()
st.title("总览")
ui.calendar_banner()
figs = data.q("headline_figures", start, end, account_uids=scope)
cur, prev = figs["current"], figs["previous"]


def delta(key: str, as_pct: bool = False) -> str | None:
    a, b = cur.get(key), prev.get(key)
    if a is None or b is None:
        return None
    if as_pct:
        return f"{(a - b) * 100:+.1f} 个百分点"
    return f"{a - b:+,.0f}"


c = st.columns(7)
c[0].metric("本期新案件", f"{cur['cases']:,}", delta("cases"), delta_color="off")
c[1].metric("本期未办结", f"{cur['open']:,}", delta("open"), delta_color="inverse")
c[2].metric("本期超期", f"{cur['overdue']:,}", delta("overdue"), delta_color="inverse")
c[3].metric("今日到期", f"{figs['due_today']:,}")
c[4].metric("负面占比", ui.pct(cur["negative_share"]), delta("negative_share", True), delta_color="inverse")
c[5].metric("响应率", ui.pct(cur["response_rate"]), delta("response_rate", True))
med, pmed = cur["median_response_working_minutes"], prev["median_response_working_minutes"]
c[6].metric(
    "响应时长中位数", ui.minutes(med),
    None if med is None or pmed is None else f"{med - pmed:+.0f} 分钟", delta_color="inverse",
)
cal = data.q("calendar_state", account_uids=scope)
k = st.columns(4)
k[0].metric("时限待定", f"{cal['pending']:,}", help="在办案件中有时限因工作日历缺失而无法计算的件数")
k[1].metric("暂定时限", f"{cal['provisional']:,}", help="在办案件中时限按法定节假日推算（尚无当年放假通知）的件数")
st.caption(
    f"统计 {start:%Y-%m-%d} 至 {end:%Y-%m-%d} 开启的案件，与上一等长期间相比。"
    f"全部在办案件 {figs['open_now']:,} 件，其中当前超期 {figs['overdue_now']:,} 件；"
    f"按时响应率 {ui.pct(cur['on_time_response_rate'])}。"
)

st.subheader(f"超期案件（当前 {figs['overdue_now']:,} 件）")
overdue = data.q("overdue_cases", account_uids=scope, limit=200)
if overdue.empty:
    st.success("目前没有超期案件。")
else:
    now = pd.Timestamp(figs["now"])
    overdue = overdue.assign(days_overdue=(now - overdue["overdue_since"].fillna(now)).dt.total_seconds() / 86400)
    picked = ui.case_table(
        overdue, "ov_overdue",
        ["case_id", "screen_name", "department", "kind", "overdue_level", "status", "opened_at", "due",
         "deadline_note", "days_overdue", "citizen_name", "text"],
        height=300,
    )
    if picked:
        ui.open_case(picked)
    if overdue.attrs.get("total", 0) > len(overdue):
        st.caption(f"显示超期最久的 {len(overdue)} 件，完整列表见「超期」页。")

st.subheader("负面")
negative = data.q("negative_posts", account_uids=scope, start=start, end=end, limit=100)
if negative.empty:
    st.info("本期没有负面内容。")
else:
    picked = ui.case_table(
        negative, "ov_negative",
        ["created_at", "source", "case_id", "screen_name", "department", "kind", "author", "sentiment_score", "text"],
        height=300,
    )
    if picked:
        ui.open_case(picked)

st.subheader("各账号")
table = data.q("account_summary", start, end, account_uids=scope)
view = table.drop(columns=["account_uid", "role"]).rename(columns=ui.COLUMNS_ZH)
st.dataframe(
    view,
    hide_index=True,
    width="stretch",
    column_config={
        "响应率": st.column_config.NumberColumn(format="percent"),
        "按时响应率": st.column_config.NumberColumn(format="percent"),
        "负面占比": st.column_config.NumberColumn(format="percent"),
        "响应中位数(工作分钟)": st.column_config.NumberColumn(format="%.0f"),
        "超期": st.column_config.NumberColumn("当前超期"),
    },
)
ui.open_case_box("ov")
data.prewarm([
    call
    for s_, e_ in ui.other_periods()
    for call in (
        ("headline_figures", (s_, e_), {"account_uids": scope}),
        ("negative_posts", (), {"account_uids": scope, "start": s_, "end": e_, "limit": 100}),
        ("account_summary", (s_, e_), {"account_uids": scope}),
    )
])
