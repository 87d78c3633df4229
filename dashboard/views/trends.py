"""趋势: daily posts, cases, negative share and response times over the period (Altair)."""
from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import data, ui

scope = ui.scope()
start, end = ui.period()
st.title("趋势")
df = data.q("trends", start, end, account_uids=scope)
data.prewarm([("trends", (s_, e_), {"account_uids": scope}) for s_, e_ in ui.other_periods()])
if df.empty:
    st.info("本期没有数据。")
    st.stop()

x = alt.X("day:T", title="日期", axis=alt.Axis(format="%m-%d"))
tip = [alt.Tooltip("day:T", title="日期", format="%Y-%m-%d")]
left, right = st.columns(2)
with left:
    st.markdown("**每日帖子与案件**")
    long = df.melt(id_vars=["day"], value_vars=["posts", "cases"], var_name="series", value_name="count")
    long["series"] = long["series"].map({"posts": "帖子（含评论转发）", "cases": "新案件"})
    st.altair_chart(
        alt.Chart(long).mark_line(point=True).encode(
            x=x, y=alt.Y("count:Q", title="数量"), color=alt.Color("series:N", title=None),
            tooltip=tip + ["series:N", "count:Q"],
        ).properties(height=280),
        width="stretch",
    )
with right:
    st.markdown("**负面占比**")
    st.altair_chart(
        alt.Chart(df).mark_area(opacity=0.5, line=True, color="#d62728").encode(
            x=x, y=alt.Y("negative_share:Q", title="负面占比", axis=alt.Axis(format="%")),
            tooltip=tip + [alt.Tooltip("negative_share:Q", format=".1%", title="负面占比"), "negative:Q", "cases:Q"],
        ).properties(height=280),
        width="stretch",
    )
left, right = st.columns(2)
with left:
    st.markdown("**首次回复时长中位数（工作分钟）**")
    st.altair_chart(
        alt.Chart(df).mark_line(point=True, color="#1f77b4").encode(
            x=x, y=alt.Y("median_response_working_minutes:Q", title="工作分钟"),
            tooltip=tip + [alt.Tooltip("median_response_working_minutes:Q", format=".0f", title="中位数")],
        ).properties(height=280),
        width="stretch",
    )
with right:
    st.markdown("**当日开启、现仍超期的案件**")
    st.altair_chart(
        alt.Chart(df).mark_bar(color="#ff7f0e").encode(
            x=alt.X("yearmonthdate(day):O", title="日期", axis=alt.Axis(format="%m-%d", labelAngle=0)), y=alt.Y("overdue_now:Q", title="件数"), tooltip=tip + ["overdue_now:Q", "cases:Q"],
        ).properties(height=280),
        width="stretch",
    )
with st.expander("数据表"):
    st.dataframe(ui.localize(df), hide_index=True, width="stretch")
