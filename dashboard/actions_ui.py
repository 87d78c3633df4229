"""Office actions from the case page: a form with a required reason, done through `matrix.casework.actions`.

The actor is the signed-in user; only office users get the form. Each action runs in one transaction
(the action writes its CaseEvent and re-evaluates the case); the caches are cleared afterwards.
"""
from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import streamlit as st

from dashboard import data, ui
from matrix.timeutil import as_utc

ACTIONS_ZH = {
    "reassign": "改派（转给其他账号）",
    "merge": "合并到另一案件",
    "grant_extension": "批准延期",
    "refuse_extension": "驳回延期申请",
    "close": "确认办结",
    "reopen": "重新打开",
    "invalid": "标记无效诉求",
    "rework": "发回重办",
}


@st.cache_resource(show_spinner=False)
def _policy(path: str | None) -> Any:
    from matrix.rules.policy import load_policy

    return load_policy(path or None)


def policy() -> Any:
    return _policy(os.environ.get("WZMON_POLICY") or None)


def action_time(detail: dict[str, Any]) -> datetime:
    """The board's 'now' (real time for live data, the data's own last moment for a demo on simulated
    time), never before the case opened."""
    candidates = [as_utc(data.fresh("data_now"))]
    if detail.get("opened_at"):
        candidates.append(as_utc(detail["opened_at"]))
    return max(c for c in candidates if c is not None)


def run_action(name: str, case_id: int, actor: str, reason: str, **params: Any) -> str:
    """Do one action; returns the event type written. Raises matrix.casework.actions.ActionError on refusal."""
    from matrix.casework import actions
    from matrix.storage.db import session_scope

    fn = actions.ACTIONS[name]
    detail = data.fresh("case_detail", case_id)
    if detail is None:
        raise actions.ActionError(f"there is no case {case_id}")
    with session_scope(data.engine(data.db_url())) as s:
        if name == "reassign":
            event = fn(s, case_id, params["to_account"], actor=actor, reason=reason, policy=policy(),
                       now=action_time(detail))
        elif name == "merge":
            event = fn(s, case_id, params["into"], actor=actor, reason=reason, policy=policy(), now=action_time(detail))
        elif name == "grant_extension":
            event = fn(s, case_id, params.get("days"), actor=actor, reason=reason, policy=policy(),
                       now=action_time(detail))
        else:
            event = fn(s, case_id, actor=actor, reason=reason, policy=policy(), now=action_time(detail))
        kind = event.type
    data.clear()
    return kind


def available() -> bool:
    return data.has("matrix.casework.actions.ACTIONS")


def action_form(detail: dict[str, Any]) -> None:
    """The office action form for one case (office users only)."""
    user = ui.current_user()
    if not user.is_office:
        st.caption("办理操作仅限问政办用户。")
        return
    if not available():
        st.warning("办理操作模块 (matrix.casework.actions) 尚未安装，暂不能操作。")
        return
    from matrix.casework.actions import ActionError

    case_id = int(detail["case_id"])
    action = st.selectbox("操作", list(ACTIONS_ZH), format_func=ACTIONS_ZH.get, key="act_name")
    params: dict[str, Any] = {}
    with st.form("case_action", clear_on_submit=False):
        if action == "reassign":
            roster = ui.account_options()
            roster = roster[roster["uid"] != detail.get("account_uid")]
            labels = {r.uid: f"{r.screen_name}（{r.department or r.name}）" for r in roster.itertuples()}
            params["to_account"] = st.selectbox("改派给", list(labels), format_func=lambda u: labels.get(u, u),
                                                key="act_to")
        elif action == "merge":
            params["into"] = st.number_input("合并到案件编号", min_value=1, step=1, value=None, key="act_into")
        elif action == "grant_extension":
            params["days"] = st.number_input("延期工作日（留空 = 按申请天数）", min_value=1, max_value=60, step=1,
                                             value=None, key="act_days")
        reason = st.text_area("理由（必填）", key="act_reason", max_chars=2000)
        submitted = st.form_submit_button("执行", type="primary")
    if not submitted:
        return
    if not (reason or "").strip():
        st.error("请填写理由：每项办理操作都记录操作人和理由。")
        return
    if action == "merge" and not params.get("into"):
        st.error("请填写要合并到的案件编号。")
        return
    if action == "merge":
        visible = data.fresh("case_ids_in_scope", [int(params["into"])], account_uids=user.scope)
        if not visible:
            st.error(f"没有案件 {int(params['into'])}。")
            return
        params["into"] = int(params["into"])
    if action == "grant_extension" and params.get("days") is not None:
        params["days"] = int(params["days"])
    try:
        kind = run_action(action, case_id, user.name, reason.strip(), **params)
    except ActionError as exc:
        st.error("操作未执行：")
        st.text(str(exc))
        return
    st.session_state["act_done"] = f"已执行：{ACTIONS_ZH[action]}（事件 {kind}），操作人 {user.name}"
    st.rerun()
