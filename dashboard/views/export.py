"""导出: the research export (matrix.export.api) with the board's filters, as a download.

The user's scope is passed as `account_uids`, so a member downloads only its own accounts' rows;
identified exports (real citizen ids) are offered to office users only, and the export module checks
the role again.
"""
from __future__ import annotations

import csv
import io

import streamlit as st

from dashboard import data, ui
from matrix.reading.queries import KINDS, STATUSES, local_day_bounds

user = ui.current_user()
scope = ui.scope()
start, end = ui.period()
st.title("导出")
st.caption(f"期间 {start:%Y-%m-%d} 至 {end:%Y-%m-%d}（左侧「统计期间」）。" + ("" if user.is_office else "只含本账号的数据。"))

TABLES_ZH = {"cases": "案件", "posts": "帖子（含评论、转发）", "events": "案件事件", "accounts": "账号", "rankings": "账号排行"}
roster = ui.account_options()
labels = {r.uid: f"{r.screen_name}（{r.department or r.name or r.uid}）" for r in roster.itertuples()}
c = st.columns(3)
table = c[0].selectbox("数据表", list(TABLES_ZH), format_func=TABLES_ZH.get, key="exp_table")
fmt = c[1].selectbox("格式", ["csv", "xlsx", "jsonl"], key="exp_fmt")
identified = c[2].checkbox("含真实市民身份（仅问政办）", value=False, key="exp_identified", disabled=not user.is_office)
c = st.columns(4)
accounts = c[0].multiselect("账号", list(labels), format_func=lambda u: labels.get(u, u), key="exp_acc")
depts = sorted({d for d in roster["department"].tolist() if d})
dept = c[1].selectbox("部门", ["全部"] + depts, key="exp_dept")
kinds = c[2].multiselect("类别", list(KINDS), key="exp_kind")
statuses = c[3].multiselect("状态", list(STATUSES), format_func=lambda s: ui.STATUS_ZH.get(s, s), key="exp_status")
sentiments = st.multiselect("情感", ["negative", "neutral", "positive"],
                            format_func={"negative": "负面", "neutral": "中性", "positive": "正面"}.get, key="exp_senti")
since, until = local_day_bounds(start, end)
file_name = f"wzmon-{table}-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}"

if data.has("matrix.export.api.export_bytes"):
    from matrix.export.api import export_bytes
    from matrix.export.errors import ExportError
    from matrix.export.query import ExportFilters

    filters = ExportFilters(
        since=since, until=until, accounts=list(accounts), department=None if dept == "全部" else dept,
        kinds=list(kinds), sentiments=list(sentiments), statuses=list(statuses),
        account_uids=None if scope is None else list(scope),
    )
    try:
        filters.check()
        if not identified:
            from matrix.export.pseudonym import load_key

            load_key()
    except ExportError as exc:
        st.error("不能导出：")
        st.text(str(exc))
        st.stop()
    url, role, actor = data.db_url(), user.role, user.name
    do_identified = bool(identified and user.is_office)

    def build() -> bytes:
        with data.session() as s:
            return b"".join(export_bytes(s, table, fmt, filters=filters, identified=do_identified, role=role, actor=actor))

    mime = {"csv": "text/csv", "jsonl": "application/x-ndjson",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[fmt]
    st.download_button(f"下载 {file_name}", data=build, file_name=file_name, mime=mime, type="primary",
                       on_click="ignore", key="exp_download")
    st.caption("市民身份默认以假名替换；CSV/XLSX 中以 = + - @ 开头的单元格已做公式防护。数据字典见 `wzmon export --help`。")
else:  # the export module is not installed: a plain CSV of cases through matrix.reading.queries
    st.warning("研究导出模块 (matrix.export.api) 未安装：这里只提供案件 CSV。")

    def build_cases() -> bytes:
        with data.session() as s:
            from matrix.reading.queries import cases

            df = cases(s, account_uids=scope, accounts=accounts, department=None if dept == "全部" else dept,
                       kind=kinds, status=statuses, sentiment=sentiments, start=start, end=end, limit=None,
                       text_chars=100000)
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(df.columns)
        for row in df.itertuples(index=False):
            w.writerow(["'" + v if isinstance(v, str) and v[:1] in "=+-@\t\r" else v for v in row])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")

    st.download_button(f"下载 wzmon-cases-{start:%Y%m%d}-{end:%Y%m%d}.csv", data=build_cases,
                       file_name=f"wzmon-cases-{start:%Y%m%d}-{end:%Y%m%d}.csv", mime="text/csv", type="primary",
                       on_click="ignore", key="exp_download")
