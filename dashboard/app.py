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
from matrix.links import BOARD_PAGES  # noqa: E402

st.set_page_config(page_title="问政监测看板", page_icon=":material/forum:", layout="wide")

# The pages and their paths come from matrix.links, the same table alerts and reports build their links from.
PAGES = [
    st.Page(f"views/{p.script}", title=p.title, icon=p.icon, url_path=p.url_path, default=p.default)
    for p in BOARD_PAGES
]

user = ui.sign_in(PAGES)
ui.crawler_banner()
ui.sign_out_button(user)
ui.sidebar_period()
st.navigation(PAGES).run()
