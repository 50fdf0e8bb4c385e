"""The pages after the operation: harm recorded against a recorded assessment (list, map, predicted against
observed, the review of each record, intake) and the register of support to partner forces. What a role may
do is decided by ``planner.record.harm`` and ``planner.record.support``; the forms only hide what they refuse.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from planner.dashboard import state
from planner.dashboard.deck import harm_deck
from planner.dashboard.views import cleared, flash, md, recorded_page, show_error
from planner.effects import MECHANISMS
from planner.errors import PlannerError
from planner.geo import CoordinateError, parse_position
from planner.observed import Observation
from planner.outputs import bundle
from planner.record import User
from planner.record.harm import HarmLog, HarmReport, parse_count
from planner.record.support import SupportGiven, SupportRegister
from planner.redaction import policy
from planner.vocabulary import (
    ALLOWED,
    HARM_CONFIDENCE,
    HARM_SOURCES,
    HARM_STEP_ROLES,
    HARM_STEP_STATUSES,
    HARM_STEPS,
    SUPPORT_KINDS,
    SUPPORT_REVIEW_STATUSES,
)
from planner.words import words


def _page_words() -> dict[str, Any]:
    return dict(words(state.lang())["harm_page"])


def h(word: str, /, **values: Any) -> str:
    """A word of the harm pages in the session's language."""
    text = str(_page_words()[word])
    return text.format(**values) if values else text


def harm_page() -> None:
    """Harm recorded after the session's recorded assessment: where it fell, what the estimate said there,
    where each record's review stands; the review of one record; and intake."""
    opened = recorded_page(h("title"))
    if opened is None:
        return
    ident, status, rebuilt = opened
    flash()
    st.caption(h("intro"))
    log = HarmLog(state.record())
    sensitive = cleared() and st.toggle(h("show_names"), key="harm_names")
    try:
        records = log.records(ident, sensitive=sensitive)
        observed = {o.harm: o for o in log.observed(ident)}
    except PlannerError as exc:
        show_error(exc)
        return
    w = words(state.lang())
    if records:
        coas = [r.coa.id for r in rebuilt.coas]
        first = coas.index(records[-1]["coa"]) if records[-1]["coa"] in coas else 0  # the latest harm's COA
        coa = st.radio(w["coa"], coas, index=first, horizontal=True, key="harm_coa", format_func=md)
        redaction = policy(state.user(), state.settings().redaction, include_sensitive=sensitive)
        found = bundle(
            rebuilt, redaction, lang=state.lang(), assessment_id=ident, review=status, harm=records,
            observed=list(observed.values()),
        )  # fmt: skip
        st.subheader(h("map"))
        st.pydeck_chart(harm_deck(found, coa, lang=state.lang(), style_url=state.basemap_style()), height=520)
        st.subheader(h("table"))
        st.dataframe(pd.DataFrame([_row(r, observed.get(r["id"]), w) for r in records]), hide_index=True)
        _workflow(records, w)
    else:
        st.info(h("none"))
    who = state.user()
    if who is None:
        st.info(h("sign_in"))
    else:
        _intake(ident, rebuilt.coas, who)
    with st.expander(h("calibration")):
        rows, left_out = log.calibration()
        if rows:
            st.dataframe(pd.DataFrame([_calibration_row(r.to_dict(), w) for r in rows]), hide_index=True)
        else:
            st.write(h("none_anywhere"))
        if left_out:
            st.caption(h("left_out", ids=", ".join(left_out)))


def _row(record: dict[str, Any], seen: Observation | None, w: dict[str, Any]) -> dict[str, Any]:
    said, columns = w["harm_tracking"], w["harm_page"]["columns"]
    what = [said["kinds"]["deaths"].format(count=_bounds(record["deaths"]))]
    what.append(said["kinds"]["injuries"].format(count=_bounds(record["injuries"])))
    what += [record[name] for name in ("damage", "movement_restriction") if record[name]]
    row = {
        columns["harm"]: record["id"],
        w["coa"]: record["coa"],
        columns["when"]: record["at"] + (f" – {record['until']}" if record["until"] else ""),
        columns["what"]: ", ".join(what),
        columns["mechanism"]: w["harm"]["mechanisms"].get(record["mechanism"], record["mechanism"]),
        columns["placed"]: said["placed"][seen.zone].format(element=seen.element, distance=f"{seen.distance_m:.0f} m")
        if seen
        else "—",
        columns["predicted"]: "—"
        if seen is None or seen.predicted is None
        else f"{seen.predicted[0]:.2g}–{seen.predicted[2]:.2g}",
        columns["items"]: ", ".join(f"{i.rule} ({w['statuses'][i.status]})" for i in seen.items) if seen else "—",
        columns["state"]: _state(record, said),
        columns["amends"]: w["harm_page"]["yes"] if record["amends_open"] else "",
    }
    for name in ("witness", "reporter"):  # only present when a cleared role asked for them
        if name in record:
            row[columns[name]] = record[name]
    return row


def _bounds(bounds: list[int]) -> str:
    low, high = bounds
    return str(low) if low == high else f"{low}–{high}"


def _state(record: dict[str, Any], said: dict[str, Any]) -> str:
    if record["stage"] == "intake":
        return str(said["steps"]["intake"])
    return str(said["state"].format(step=said["steps"][record["stage"]], status=said["statuses"][record["status"]]))


def _calibration_row(row: dict[str, Any], w: dict[str, Any]) -> dict[str, Any]:
    columns = w["harm_page"]["calibration_columns"]
    mechanism = w["harm"]["mechanisms"].get(row["mechanism"], columns["all"])
    low, central, high = row["predicted"]
    return {
        columns["mechanism"]: mechanism,
        columns["incidents"]: row["incidents"],
        columns["core"]: row["core"],
        columns["outer"]: row["outer"],
        columns["outside"]: row["outside"],
        columns["unforeseen"]: row["unforeseen"],
        columns["observed"]: _bounds(row["observed"]),
        columns["predicted"]: f"{low:.2g}–{high:.2g} ({central:.2g})",
    }


def _workflow(records: list[dict[str, Any]], w: dict[str, Any]) -> None:
    """One record's steps so far, and the form for the steps the signed-in role takes."""
    st.subheader(h("workflow"))
    ids = [r["id"] for r in records]
    chosen = st.selectbox(h("choose"), ids, key="harm_choice")
    record = next(r for r in records if r["id"] == chosen)
    said = w["harm_tracking"]
    if record["steps"]:
        history = [
            {
                h("step"): said["steps"][s["step"]],
                h("status"): said["statuses"][s["status"]],
                h("note"): s["note"],
                h("details"): "; ".join(f"{k}: {v}" for k, v in s["details"].items()),
                h("by"): s["by"],
                h("step_at"): s["at"][:16],
            }
            for s in record["steps"]
        ]
        st.dataframe(pd.DataFrame(history), hide_index=True)
    else:
        st.caption(said["steps"]["intake"])
    who = state.user()
    steps = [s for s in HARM_STEPS if who is not None and who.role in HARM_STEP_ROLES[s]]
    if who is None:
        return
    if not steps:
        st.caption(h("not_your_step"))
        return
    # The step is chosen outside the form, so that the conclusions offered are that step's own
    step = st.selectbox(h("step"), steps, format_func=lambda s: said["steps"][s], key="harm_step")
    with st.form(f"harm_step_{chosen}"):
        status = st.selectbox(
            h("status"), HARM_STEP_STATUSES[step], format_func=lambda s: said["statuses"][s], key="harm_status"
        )
        note = st.text_area(h("note"), key="harm_note")
        cols = st.columns(2)
        details = {
            "lessons": cols[0].text_input(h("lessons"), key="harm_lessons"),
            "lesson_rule": cols[1].text_input(h("lesson_rule"), key="harm_lesson_rule"),
            "mitigations": cols[0].text_input(h("mitigations"), key="harm_mitigations"),
            "on": cols[1].text_input(h("on"), key="harm_on"),
            "referred_to": cols[0].text_input(h("referred_to"), key="harm_referred"),
        }
        if st.form_submit_button(h("take_step"), key="harm_step_submit"):
            try:
                HarmLog(state.record()).review(who, chosen, step=step, status=status, note=note, details=details)
            except PlannerError as exc:
                show_error(exc)
            else:
                st.session_state["flash"] = h("stepped", id=chosen, step=said["steps"][step])
                st.rerun()


def _intake(ident: str, coas: list[Any], who: User) -> None:
    """The intake form: anyone signed in takes a report of harm in."""
    with st.expander(h("intake")), st.form("harm_intake"):
        cols = st.columns(3)
        coa = cols[0].selectbox(words(state.lang())["coa"], [c.coa.id for c in coas], key="intake_coa")
        elements = [""] + [e.id for c in coas for e in c.coa.elements if c.coa.id == coa]
        element = cols[1].selectbox(h("element"), elements, key="intake_element")
        mechanism = cols[2].selectbox(
            h("mechanism"),
            MECHANISMS,
            format_func=lambda m: words(state.lang())["harm"]["mechanisms"].get(m, m),
            key="intake_mechanism",
        )
        at = cols[0].text_input(h("at"), placeholder="2026-12-03T09:30+03:00", key="intake_at")
        until = cols[1].text_input(h("until"), key="intake_until")
        position = cols[2].text_input(h("position"), placeholder="6.2N 33.6E", key="intake_position")
        precision = cols[0].number_input(h("precision_m"), min_value=1.0, value=100.0, key="intake_precision")
        deaths = cols[1].text_input(h("deaths"), value="0", key="intake_deaths")
        injuries = cols[2].text_input(h("injuries"), value="0", key="intake_injuries")
        displaced = cols[0].text_input(h("displaced"), value="0", key="intake_displaced")
        detained = cols[1].text_input(h("detained"), value="0", key="intake_detained")
        damage = cols[2].text_input(h("damage"), key="intake_damage")
        movement = cols[0].text_input(h("movement_restriction"), key="intake_movement")
        source = cols[1].selectbox(
            h("source"), HARM_SOURCES, format_func=lambda s: _page_words()["sources"][s], key="intake_source"
        )
        confidence = cols[2].selectbox(h("confidence"), HARM_CONFIDENCE, index=1, key="intake_confidence")
        community = cols[0].text_input(h("community"), key="intake_community")
        attributed = cols[1].text_input(h("attributed_to"), key="intake_attributed")
        description = st.text_area(h("description"), key="intake_description")
        witness = cols[2].text_input(h("witness"), key="intake_witness")
        reporter = cols[2].text_input(h("reporter"), key="intake_reporter")
        if not st.form_submit_button(h("submit"), key="harm_submit"):
            return
    try:
        report = HarmReport(
            coa=coa,
            at=at,
            until=until,
            position=parse_position(position),
            position_precision_m=precision,
            mechanism=mechanism,
            origin=source,
            confidence=confidence,
            element=element or "",
            deaths=parse_count(deaths, "deaths"),
            injuries=parse_count(injuries, "injuries"),
            damage=damage,
            displaced=parse_count(displaced, "displaced"),
            detained=parse_count(detained, "detained"),
            movement_restriction=movement,
            community=community,
            attributed_to=attributed,
            description=description,
            witness=witness,
            reporter=reporter,
        )
        harm_id = HarmLog(state.record()).add(who, ident, report)
    except (CoordinateError, PlannerError) as exc:
        show_error(exc)
    else:
        st.session_state["flash"] = h("recorded", id=harm_id)
        st.rerun()


def support_page() -> None:
    """The register of support to partner forces under the session's recorded assessment (HRDDP)."""
    opened = recorded_page(h("support_title"))
    if opened is None:
        return
    ident, _, _ = opened
    flash()
    st.caption(h("support_intro"))
    register = SupportRegister(state.record())
    entries = register.entries()
    said = words(state.lang())["support"]
    if entries:
        st.dataframe(pd.DataFrame([_support_row(e, said) for e in entries]), hide_index=True)
    else:
        st.info(h("support_none"))
    who = state.user()
    if who is None:
        st.info(h("sign_in"))
        return
    if who.role in ALLOWED["register_support"]:
        _support_form(register, ident, who, said)
    if entries and who.role in ALLOWED["follow_up_support"]:
        _follow_up_form(register, [e["id"] for e in entries], who)


def _support_row(entry: dict[str, Any], said: dict[str, Any]) -> dict[str, Any]:
    unit = f" ({entry['unit']})" if entry["unit"] else ""
    return {
        said["record"]: entry["id"],
        said["given"]: f"{said['kinds'][entry['kind']]}: {entry['partner']}{unit}",
        said["dates"]: f"{entry['starts']} – {entry['ends']}",
        said["next_due"]: entry["due"] or "—",
        said["open_findings"]: "; ".join(entry["open_findings"]) or "—",
        h("under"): entry["assessment"],
    }


def _support_form(register: SupportRegister, ident: str, who: User, said: dict[str, Any]) -> None:
    with st.expander(h("support_add")), st.form("support_add"):
        cols = st.columns(3)
        partner = cols[0].text_input(h("partner"), key="support_partner")
        unit = cols[1].text_input(h("unit"), key="support_unit")
        kind = cols[2].selectbox(h("kind"), SUPPORT_KINDS, format_func=lambda k: said["kinds"][k], key="support_kind")
        start = cols[0].text_input(h("from"), placeholder="2026-12-03", key="support_from")
        end = cols[1].text_input(h("to"), key="support_to")
        follow_up = cols[2].text_input(h("follow_up"), key="support_follow_up")
        conditions = st.text_area(h("conditions"), key="support_conditions")
        mitigations = st.text_area(h("mitigations_agreed"), key="support_mitigations")
        if not st.form_submit_button(h("register"), key="support_submit"):
            return
    given = SupportGiven(
        partner, kind, start, end, follow_up, unit=unit, conditions=conditions, mitigations=mitigations
    )
    try:
        support_id = register.add(who, ident, given)
    except PlannerError as exc:
        show_error(exc)
    else:
        st.session_state["flash"] = h("registered", id=support_id)
        st.rerun()


def _follow_up_form(register: SupportRegister, ids: list[str], who: User) -> None:
    with st.expander(h("follow_up_title")), st.form("support_review"):
        cols = st.columns(3)
        chosen = cols[0].selectbox(h("support_choice"), ids, key="support_choice")
        status = cols[1].selectbox(
            h("status"),
            SUPPORT_REVIEW_STATUSES,
            format_func=lambda s: _page_words()["review_statuses"][s],
            key="support_status",
        )
        next_due = cols[2].text_input(h("next"), key="support_next")
        note = st.text_area(h("note"), key="support_note")
        if not st.form_submit_button(h("record_follow_up"), key="support_review_submit"):
            return
    try:
        register.review(who, chosen, status=status, note=note, next_due=next_due)
    except PlannerError as exc:
        show_error(exc)
    else:
        st.session_state["flash"] = h("followed_up", id=chosen)
        st.rerun()


__all__ = ["harm_page", "support_page"]
