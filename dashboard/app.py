"""The office's board: `streamlit run dashboard/app.py` (or `wzmon dashboard`). Reads WZMON_DB, WZMON_USERS."""
from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run path/to/app.py` puts only the script's folder on sys.path; make `dashboard` importable.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from dashboard import ui  # noqa: E402

st.set_page_config(page_title="问政监测看板", page_icon=":material/forum:", layout="wide")

PAGES = [
    st.Page("views/overview.py", title="总览", icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("views/overdue.py", title="超期", icon=":material/alarm:", url_path="overdue"),
    st.Page("views/negative.py", title="负面", icon=":material/sentiment_dissatisfied:", url_path="negative"),
    st.Page("views/rankings.py", title="账号排行", icon=":material/leaderboard:", url_path="rankings"),
    st.Page("views/trends.py", title="趋势", icon=":material/trending_up:", url_path="trends"),
    st.Page("views/case.py", title="案件详情", icon=":material/search:", url_path="case"),
    st.Page("views/crawler.py", title="采集状态", icon=":material/satellite_alt:", url_path="crawler"),
    st.Page("views/alerts.py", title="告警", icon=":material/notifications:", url_path="alerts"),
    st.Page("views/export.py", title="导出", icon=":material/download:", url_path="export"),
]

user = ui.sign_in(PAGES)
ui.crawler_banner()
ui.sign_out_button(user)
ui.sidebar_period()
st.navigation(PAGES).run()
