"""账号排行: the per-account ranking of the period (matrix.reading.rankings), a bar chart and each account's trend."""
from __future__ import annotations

from dataclasses import asdict

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data, ui
from matrix.reading.queries import local_day_bounds

scope = ui.scope()
start, end = ui.period()
st.title("账号排行")
roster = ui.account_options()
depts = sorted({d for d in roster["department"].tolist() if d})
dept = st.selectbox("部门", ["全部"] + depts, key="rank_dept")
department = None if dept == "全部" else dept

lo, hi = local_day_bounds(start, end)
now = data.q("data_now")
if data.has("matrix.reading.rankings.account_rankings"):
    ranks = data.q("matrix.reading.rankings.account_rankings", lo, hi, account_uids=scope, department=department, now=now)
    df = pd.DataFrame([asdict(r) for r in ranks])
    source = "matrix.reading.rankings"
    data.prewarm([  # the other period presets, so that switching to one is a cache hit
        ("matrix.reading.rankings.account_rankings", local_day_bounds(s_, e_),
         {"account_uids": scope, "department": department, "now": now})
        for s_, e_ in ui.other_periods()
    ])
else:  # the casework engineer's ranking is not installed: fall back to the board's own summary
    df = data.q("account_summary", start, end, account_uids=scope, department=department)
    source = "matrix.reading.queries.account_summary"

if df.empty:
    st.info("本期没有案件。")
    st.stop()
df = df[df["account_uid"].astype(bool)]
df.insert(0, "名次", range(1, len(df) + 1))
# 账号巡检: days since each member's last own post (国办秘函〔2019〕19号: 2 weeks without an update fails the check)
silence = data.q("silence_board", now, account_uids=scope)
if not silence.empty:
    days = dict(zip(silence["account_uid"], silence["days_silent"]))
    df["days_silent"] = df["account_uid"].map(days)
cols = {
    "screen_name": "账号", "name": "单位", "department": "部门", "cases": "案件数", "responded": "已回复",
    "response_rate": "响应率", "on_time_responses": "按时回复", "on_time_response_rate": "按时响应率",
    "closed": "已办结", "on_time_closed": "按时办结", "on_time_closure_rate": "按时办结率",
    "median_response_working_minutes": "响应中位数(工作分钟)", "p90_response_working_minutes": "响应P90(工作分钟)",
    "overdue_count": "超期件数", "days_overdue": "超期工作日", "overdue": "当前超期", "negative_share": "负面占比",
    "mention_cases": "@诉求", "comment_cases": "评论诉求", "comment_on_time": "评论按时回应",
    "days_silent": "距上次发布(天)",
}
view = df[["名次"] + [c for c in cols if c in df.columns]].rename(columns=cols)
pct_cfg = {c: st.column_config.NumberColumn(format="percent") for c in ("响应率", "按时响应率", "按时办结率", "负面占比")}
st.dataframe(view, hide_index=True, width="stretch", column_config=pct_cfg)
st.caption(f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d} 开启的案件；无效诉求与已合并案件不计。来源：{source}。")

metric = st.radio("图表指标", ["按时响应率", "响应率", "响应中位数(工作分钟)", "超期件数", "负面占比"],
                  horizontal=True, key="rank_metric")
if metric in view.columns:
    chart = alt.Chart(view).mark_bar().encode(
        x=alt.X(f"{metric}:Q", title=metric, axis=alt.Axis(format="%") if metric.endswith("率") or metric == "负面占比" else alt.Axis()),
        y=alt.Y("账号:N", sort="-x" if metric not in ("超期件数", "响应中位数(工作分钟)", "负面占比") else "x", title=None),
        tooltip=["账号:N", "部门:N", f"{metric}:Q", "案件数:Q"],
    ).properties(height=max(200, 24 * len(view)))
    st.altair_chart(chart, width="stretch")

st.subheader("各账号每日趋势")
trend = data.q("account_trends", start, end, account_uids=scope)
if department:
    keep = set(roster.loc[roster["department"] == department, "uid"])
    trend = trend[trend["account_uid"].isin(keep)]
if trend.empty:
    st.info("本期没有数据。")
else:
    measure = st.radio("趋势指标", ["案件数", "按时响应率", "当前超期"], horizontal=True, key="rank_trend_metric")
    field = {"案件数": "cases", "按时响应率": "on_time_response_rate", "当前超期": "overdue_now"}[measure]
    names = sorted(trend["screen_name"].unique())
    chosen = st.multiselect("账号", names, default=names[: min(8, len(names))], key="rank_trend_accounts")
    t = trend[trend["screen_name"].isin(chosen)]
    line = alt.Chart(t).mark_line(point=True).encode(
        x=alt.X("day:T", title="日期", axis=alt.Axis(format="%m-%d")),
        y=alt.Y(f"{field}:Q", title=measure, axis=alt.Axis(format="%") if field.endswith("rate") else alt.Axis()),
        color=alt.Color("screen_name:N", title="账号"),
        tooltip=[alt.Tooltip("day:T", format="%Y-%m-%d"), "screen_name:N", f"{field}:Q", "cases:Q"],
    ).properties(height=320)
    st.altair_chart(line, width="stretch")
