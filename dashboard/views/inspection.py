"""账号巡检: the member accounts as the national 政务新媒体 check sees them (matrix.casework.inspection via matrix.reading.queries):
days since each account's last own post against the two-week rule, dead links in their posts, and the month's
inspection (the rows of `wzmon report inspect`). Member users see only their own accounts."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import data, ui
from matrix.timeutil import SHANGHAI

LEVEL = {"": "正常", "warning": "预警", "breach": "超过2周未更新", "no_posts": "未见任何更新", "unknown": "尚未采集"}

scope = ui.scope()
st.title("账号巡检")
rules = data.q("inspection_rules")
st.caption(f"依据：{rules['rule']}。本办规则：连续{rules['silence_warning_zh']}未更新预警，{rules['silence_breach_zh']}未更新视为"
           "“2周内无信息更新”（单项否决）。")
now = data.q("data_now")

st.subheader("更新情况")
silence = data.q("silence_board", now, account_uids=scope)
if silence.empty:
    st.info("没有成员账号。")
else:
    breach = int((silence["level"].isin(["breach", "no_posts"])).sum())
    warn = int((silence["level"] == "warning").sum())
    c1, c2, c3 = st.columns(3)
    c1.metric("成员账号", len(silence))
    c2.metric("超过2周未更新", breach)
    c3.metric("预警（将满2周）", warn)
    view = pd.DataFrame({
        "账号": silence["screen_name"], "单位": silence["name"], "部门": silence["department"],
        "状态": silence["level"].map(LEVEL), "距上次发布(天)": silence["days_silent"],
        "最近发布": silence["last_post_at"].map(ui.local_text), "满2周时间": silence["breach_at"].map(ui.local_text),
        "最近内容": silence["last_post_text"].fillna("").str.slice(0, 60),
    })
    st.dataframe(view, hide_index=True, width="stretch", key="inspection_silence")

st.subheader("失效链接")
counts = data.q("link_counts", account_uids=scope)
st.caption(f"成员账号博文中的链接 {counts['links']} 个，已检查 {counts['checked']} 个（HEAD，不行再 GET；每个链接每天至多一次），"
           f"失效 {counts['dead']} 个。")
dead = data.q("dead_link_list", account_uids=scope)
if dead.empty:
    st.success("未发现失效链接。")
else:
    st.dataframe(pd.DataFrame({
        "账号": dead["screen_name"], "链接": dead["url"],
        "检查结果": [f"HTTP {int(s)}" if pd.notna(s) and s else (e or "无法访问") for s, e in zip(dead["http_status"], dead["error"])],
        "失效起始": dead["dead_since"].map(ui.local_text), "最近检查": dead["checked_at"].map(ui.local_text),
        "所在博文": dead["post_text"].fillna("").str.slice(0, 60), "发布时间": dead["post_created_at"].map(ui.local_text),
    }), hide_index=True, width="stretch", key="inspection_links")

st.subheader("月度巡检")
today = pd.Timestamp(now).tz_convert(SHANGHAI)
months = [f"{today:%Y-%m}"]
first = today.replace(day=1)
for _ in range(5):
    first = (first - timedelta(days=1)).replace(day=1)
    months.append(f"{first:%Y-%m}")
month = st.selectbox("月份", months, key="inspection_month")
rows = data.q("inspection_month", month, now, account_uids=scope)
if rows.empty:
    st.info("没有成员账号。")
else:
    vetoed = rows[rows["verdict"] == "单项否决"]["screen_name"].tolist()
    if vetoed:
        st.error("单项否决：" + "、".join("@" + ui.md_escape(n) for n in vetoed))
    st.dataframe(pd.DataFrame({
        "结论": rows["verdict"], "账号": rows["screen_name"], "部门": rows["department"],
        "最近发布": rows["last_post_at"].str.slice(0, 16).str.replace("T", " "),
        "距今天数": rows["days_since_last_post"], "期内最长未更新(天)": rows["longest_silence_days"],
        "超过2周未更新": rows["silence_breach"].map({True: "是", False: "否"}),
        "评论诉求": rows["comment_cases"], "按时回应": rows["comment_on_time"], "超时": rows["comment_late"],
        "失效链接": rows["dead_links"],
    }), hide_index=True, width="stretch", key="inspection_rows")
    st.caption("与 `wzmon report inspect --month " + month + "` 的 CSV 同一口径。")
