"""采集状态: per source last poll, cursor, errors, requests, parse warnings, login state; the latest items that could
not be read; the recent health log."""
from __future__ import annotations

import streamlit as st

from dashboard import data, ui

scope = ui.scope()
st.title("采集状态")
ui.calendar_banner()
status = data.q("crawler_status", account_uids=scope)
alarm = data.q("crawler_alarm")
c = st.columns(5)
c[0].metric("采集源", f"{len(status):,}")
c[1].metric("累计请求", f"{int(status['requests_total'].sum()) if len(status) else 0:,}")
c[2].metric("累计错误", f"{int(status['errors_total'].sum()) if len(status) else 0:,}")
c[3].metric("解析警告", f"{int(status['parse_warnings'].sum()) if len(status) else 0:,}",
            help="页面中个别条目无法解析（其余条目已入库），按采集源累计，同一条目重复出现只计一次")
c[4].metric("登录/封禁状态", "正常" if not alarm else ui.HEALTH_ZH.get(alarm["state"], alarm["state"]))
if not ui.current_user().is_office:
    st.caption("仅显示本账号的时间线与@提及采集源。")
if status.empty:
    st.info("还没有采集记录。")
else:
    view = ui.localize(status)
    order = list(view.columns)
    order.insert(order.index("errors_total") + 1, order.pop(order.index("parse_warnings")))  # beside the errors
    view = view[order]
    view["health_state"] = view["health_state"].map(lambda s: ui.HEALTH_ZH.get(s, s))
    st.dataframe(
        view.rename(columns={
            "source_key": "采集源", "kind": "类型", "target": "目标", "last_polled_at": "上次采集",
            "last_new_at": "上次有新内容", "last_item_at": "最新内容时间", "items_total": "累计条目",
            "requests_total": "累计请求", "errors_total": "累计错误", "last_error": "最近错误", "cursor": "游标",
            "health_state": "状态", "health_at": "状态时间", "parse_warnings": "解析警告",
        }),
        hide_index=True, width="stretch",
        column_config={k: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
                       for k in ("上次采集", "上次有新内容", "最新内容时间", "状态时间")},
    )
st.subheader("最近的解析警告")
warnings = data.q("parse_warning_log", limit=50, account_uids=scope)
if warnings.empty:
    st.info("没有解析警告：所有页面的条目都已读出。")
else:
    view = ui.localize(warnings)
    st.dataframe(
        view.rename(columns={"at": "时间", "source_key": "采集源", "warning": "警告（条目、字段、原因）",
                             "raw_response_id": "原始响应"}),
        hide_index=True, width="stretch",
        column_config={"时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
    )
st.subheader("健康日志")
log = data.q("crawler_health_log", limit=300, account_uids=scope)
if log.empty:
    st.info("没有健康事件。")
else:
    view = ui.localize(log)
    view["state"] = view["state"].map(lambda s: ui.HEALTH_ZH.get(s, s))
    st.dataframe(
        view.rename(columns={"at": "时间", "source_key": "采集源", "state": "状态", "http_status": "HTTP",
                             "message": "信息", "cooldown_until": "冷却至"}),
        hide_index=True, width="stretch",
        column_config={k: st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm") for k in ("时间", "冷却至")},
    )
