"""超期: every case overdue now, filterable by account, department, kind, level and opening period."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, ui

scope = ui.scope()
st.title("超期案件")
filters = ui.account_filters("overdue")
use_period = st.toggle("只看统计期间内开启的案件", value=False, key="overdue_use_period")
start, end = ui.period() if use_period else (None, None)
df = data.q("overdue_cases", account_uids=scope, start=start, end=end, limit=2000, **filters)
total = df.attrs.get("total", len(df))
st.caption(f"共 {total:,} 件" + (f"，显示超期最久的 {len(df):,} 件" if total > len(df) else "") + "。点选一行打开案件。")
if df.empty:
    st.success("没有符合条件的超期案件。")
else:
    now = pd.Timestamp(data.q("data_now"))
    df = df.assign(days_overdue=(now - df["overdue_since"].fillna(now)).dt.total_seconds() / 86400)
    picked = ui.case_table(
        df, "overdue_table",
        ["case_id", "screen_name", "account_name", "department", "kind", "overdue_level", "status", "opened_at",
         "due", "overdue_since", "days_overdue", "citizen_name", "text"],
        height=600,
    )
    if picked:
        ui.open_case(picked)
ui.open_case_box("overdue")
