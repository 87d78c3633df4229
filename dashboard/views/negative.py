"""负面: negative citizen posts and comments aimed at the accounts in the period."""
from __future__ import annotations

import streamlit as st

from dashboard import data, ui

scope = ui.scope()
start, end = ui.period()
st.title("负面内容")
filters = ui.account_filters("negative", levels=False)
df = data.q("negative_posts", account_uids=scope, start=start, end=end, limit=2000, **filters)
st.caption(f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}：{len(df):,} 条（最多显示 2000 条）。点选一行打开所属案件。")
if df.empty:
    st.info("没有符合条件的负面内容。")
else:
    picked = ui.case_table(
        df, "negative_table",
        ["created_at", "source", "case_id", "screen_name", "department", "kind", "author", "sentiment_score", "text"],
        height=600,
    )
    if picked:
        ui.open_case(picked)
ui.open_case_box("negative")
