"""The dashboard's pages. Each reads the session, calls the library (the same functions as the command line)
and draws; what a role may do is decided by ``planner.record``, the screens only hide what it would refuse.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
import streamlit.components.v1 as components

from planner._yamlfile import load_yaml
from planner.assess import Assessment
from planner.brief import brief
from planner.checklist import render
from planner.dashboard import state
from planner.dashboard.deck import PALETTE, preview_deck
from planner.dashboard.sweeps import sweep_section
from planner.effects import EffectsTable, load_effects_table
from planner.errors import InputError, PlannerError
from planner.export import export
from planner.outputs import Bundle, lesson_text, recorded_bundle
from planner.plan import load_plan
from planner.record import ConflictError, RecordError, User
from planner.redaction import Redaction, policy
from planner.risk import comparison_text, explain, people_text, range_text, reasons_text
from planner.uploads import save_upload, write_plan
from planner.vocabulary import DECISIONS, EXPORT_FORMATS, MIN_PASSWORD, REVIEWERS, ROLES, STATUSES
from planner.words import LANGUAGES, words

t = state.t


# --- shared pieces -------------------------------------------------------------------------------------------------


def sidebar() -> None:
    """Language and who is signed in, on every page."""
    st.sidebar.radio(
        "Language / Langue",
        LANGUAGES,
        key="lang",
        format_func=lambda code: {"en": "English", "fr": "Français"}[code],
        horizontal=True,
    )
    who = state.user()
    st.sidebar.caption(t("signed_in_as", name=md(who.name), role=t(f"role_{who.role}")) if who else t("not_signed_in"))


_MARKDOWN = str.maketrans({c: f"\\{c}" for c in "\\`*_{}[]()#+-.!|<>~$"})


def md(text: Any) -> str:
    """Text from layers and users, shown as text: markdown in a site name must not make a link or an image
    (an image would be fetched from wherever it points)."""
    return str(text).translate(_MARKDOWN)


# The command line's options named in a message, "(--note)" or "(--role admin)": the screen has its own fields.
_CLI_HINT = re.compile(r" \(--[\w-]+(?: \w+)?\)")


def show_error(exc: Exception, *, written: Path | None = None, said: str = "") -> None:
    """A user's problem in the words of the screen (no command-line options); never a traceback. A file written
    only for an attempt (``written``) is named as the user knows it (``said``)."""
    text = _CLI_HINT.sub("", str(exc))
    if written is not None:
        text = text.replace(str(written), said)
    st.error(md(text), icon=":material/error:")


def flash() -> None:
    """What the last action did, said once after the rerun it caused (and what it could not do)."""
    if "flash" in st.session_state:
        st.success(md(st.session_state.pop("flash")), icon=":material/check:")
    if "flash_warning" in st.session_state:
        st.warning(md(st.session_state.pop("flash_warning")), icon=":material/sync_problem:")


def _assessment() -> Assessment | None:
    try:
        with st.spinner(t("assessing")):
            return state.current_assessment()
    except PlannerError as exc:
        show_error(exc)
        return None


def _fictional_banner(assessment: Assessment) -> None:
    if assessment.plan.fictional or assessment.layerset.fictional:
        st.warning(t("fictional_banner"), icon=":material/science:")


def _redaction(*, sources: bool = False) -> Redaction:
    """What this screen may show: sources only for a cleared role that asked for them."""
    return policy(state.user(), state.settings().redaction, include_sensitive=sources and cleared())


def cleared() -> bool:
    who = state.user()
    return who is not None and who.role in state.settings().redaction.cleared_roles


# --- sign-in -------------------------------------------------------------------------------------------------------


def signin_page() -> None:
    st.title(t("signin_title"))
    store = state.record()
    who = state.user()
    if who is not None:
        flash()
        st.success(t("signed_in_as", name=md(who.name), role=t(f"role_{who.role}")))
        if st.button(t("sign_out"), key="sign_out"):
            del st.session_state["user"]
            st.rerun()
        if who.role == "admin":
            _add_user_form(who)
            _users_admin(who)
        return
    flash()
    if not store.has_users():
        st.info(t("no_users"))
        _add_user_form(None)
        return
    with st.form("signin"):
        name = st.text_input(t("user_name"), key="signin_name")
        password = st.text_input(t("password"), type="password", key="signin_password")
        if st.form_submit_button(t("sign_in"), key="signin_submit"):
            try:
                st.session_state["user"] = store.sign_in(name, password)
                st.rerun()
            except RecordError as exc:
                show_error(exc)
    st.caption(t("guest_note"))


def _add_user_form(admin: User | None) -> None:
    st.subheader(t("add_user") if admin else t("first_admin"))
    with st.form("add_user", clear_on_submit=True):
        name = st.text_input(t("user_name"), key="new_user_name")
        role = st.selectbox(
            t("role"), ROLES if admin else ("admin",), key="new_user_role", format_func=lambda r: t(f"role_{r}")
        )
        password = st.text_input(t("password"), type="password", key="new_user_password")
        st.caption(t("password_rule", n=MIN_PASSWORD))  # said before a refusal, not after
        if st.form_submit_button(t("add_user"), key="add_user_submit"):
            try:
                added = state.record().add_user(admin, name, role, password)
            except (RecordError, InputError) as exc:
                show_error(exc)
                return
            message = t("user_added", name=added.name, role=t(f"role_{added.role}"))
            if admin is None:  # the first admin: the page now asks them to sign in
                st.session_state["flash"] = message + " " + t("now_sign_in")
                st.rerun()
            st.success(md(message))


def _users_admin(admin: User) -> None:
    """Every user, and an admin's changes to one of them: role, password, (de)activation; each audited."""
    st.subheader(t("users_title"))
    try:
        listed = state.record().list_users(admin)
    except RecordError as exc:
        show_error(exc)
        return
    table = pd.DataFrame(
        {
            t("user_name"): [u["name"] for u in listed],
            t("role"): [t(f"role_{u['role']}") for u in listed],
            t("user_state"): [t("active") if u["active"] else t("deactivated") for u in listed],
            t("added"): [f"{u['created_at'][:10]} · {u['created_by']}" for u in listed],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
    with st.form("change_user"):
        names = [u["name"] for u in listed]
        name = st.selectbox(t("user_name"), names, key="change_user_name")  # options are plain text
        cols = st.columns(3)
        role = cols[0].selectbox(
            t("new_role"), ("", *ROLES), key="change_user_role", format_func=lambda r: t(f"role_{r}") if r else "—"
        )
        password = cols[1].text_input(t("new_password"), type="password", key="change_user_password")
        cols[1].caption(t("password_rule", n=MIN_PASSWORD))
        activity = cols[2].radio(
            t("user_state"),
            ("", "active", "deactivated"),
            key="change_user_state",
            format_func=lambda a: t(a) if a else "—",
        )
        if st.form_submit_button(t("change_user"), key="change_user_submit"):
            try:
                changed = state.record().change_user(
                    admin,
                    name,
                    role=role or None,
                    password=password or None,
                    active=None if not activity else activity == "active",
                )
            except (RecordError, InputError) as exc:
                show_error(exc)
                return
            st.session_state["flash"] = t("user_changed", name=changed.name)
            st.rerun()


# --- plan ----------------------------------------------------------------------------------------------------------


def plan_page() -> None:
    st.title(t("plan_title"))
    plans = state.plans()
    current = state.plan_path()
    options = list(dict.fromkeys([*plans, current]))
    key = f"plan_choice:{current}"  # a new widget for each plan opened, so it always shows the current one
    st.selectbox(
        t("choose_plan"),
        options,
        index=options.index(current),
        format_func=lambda p: p.name,
        key=key,
        on_change=_choose_plan,
        args=(key,),
    )
    with st.expander(t("upload_title")):
        _upload_form()
    assessment = _assessment()
    if assessment is None:
        return
    _fictional_banner(assessment)
    plan = assessment.plan
    st.markdown(f"**{md(plan.name)}** · {t('area')}: {md(assessment.layerset.area)}")
    _plan_form(state.plan_path(), assessment)
    sweep_section(state.plan_path(), assessment)


def _choose_plan(key: str) -> None:
    st.session_state["plan_path"] = str(st.session_state[key])
    st.session_state.pop("assessment_id", None)


def _open_plan(path: Path) -> None:
    st.session_state["plan_path"] = str(path)
    st.session_state.pop("assessment_id", None)
    st.rerun()


def _upload_form() -> None:
    st.caption(t("upload_note", mb=f"{state.settings().dashboard.max_upload_mb:g}"))
    files = st.file_uploader(t("upload_files"), accept_multiple_files=True, key="uploads")
    if not files or not st.button(t("open_upload"), key="open_upload"):
        return
    folder = state.workdir() / "uploads"
    try:
        saved = [
            save_upload(f.name, f.getvalue(), folder, max_mb=state.settings().dashboard.max_upload_mb) for f in files
        ]
        plan = uploaded_plan(saved, folder)
        with st.status(t("loading_layers")):
            state.current_assessment(plan)
    except PlannerError as exc:
        show_error(exc)
        return
    _open_plan(plan)


def uploaded_plan(saved: list[Path], folder: Path) -> Path:
    """The one plan (a YAML file with ``coas``) among uploaded files. A YAML file that cannot be read (another
    encoding, a syntax error) is refused with its name and line: it may be the plan."""
    plans = [p for p in saved if p.suffix in (".yaml", ".yml") and state.holds_coas(load_yaml(p))]
    if len(plans) != 1:
        raise InputError.single(
            folder, "", f"{len(plans)} plans among the uploads", "upload exactly one plan (a YAML with `coas`)"
        )
    return plans[0]


def _plan_form(path: Path, assessment: Assessment) -> None:
    """COAs and elements in forms; applying writes the next version of the plan, assesses it, and says what the
    edit changed. Radii show the effects table's defaults; elements and COAs can be added and deleted."""
    data = load_yaml(path)  # read by the assessment just before: UTF-8, valid
    effects = load_effects_table(assessment.plan.effects_table)
    activities = sorted(effects.activities)
    flash()
    deleted: set[tuple[int, int]] = set()
    dropped_coas: set[int] = set()
    with st.form("plan_form"):
        cols = st.columns(3)
        start = cols[0].text_input(t("window_start"), str(_iso(data["window"]["start"])), key="window_start")
        end = cols[1].text_input(t("window_end"), str(_iso(data["window"]["end"])), key="window_end")
        partner = cols[2].checkbox(t("partner_force"), bool(data.get("partner_force")), key="partner_force")
        for c, coa in enumerate(data["coas"]):
            head = st.columns([6, 1])
            head[0].markdown(f"**{t('coa')} {md(coa['id'])}**")
            if head[1].checkbox(t("delete"), key=f"coa_{c}_delete"):
                dropped_coas.add(c)
            coa["name"] = st.text_input(t("name"), coa["name"], key=f"coa_{c}_name")
            for e, element in enumerate(coa["elements"]):
                row = st.columns([2, 3, 3, 1.3, 1.3, 1])
                row[0].markdown(md(element["id"]))
                element["activity"] = row[1].selectbox(
                    t("activity"),
                    activities,
                    index=activities.index(element["activity"]) if element["activity"] in activities else 0,
                    key=f"el_{c}_{e}_activity",
                )
                if "position" in element:
                    element["position"] = _position(
                        row[2].text_input(
                            t("position"), _position_text(element["position"]), key=f"el_{c}_{e}_position"
                        )
                    )
                else:
                    row[2].caption(t("geometry_from_file"))
                spec = effects.activities.get(element["activity"])
                for col, key in ((row[3], "core_m"), (row[4], "outer_m")):
                    default = getattr(spec, key) if spec is not None else None
                    own = element.get(key)
                    value = col.number_input(
                        t(key),
                        min_value=0.0,
                        value=float(own) if own is not None else default,
                        key=f"el_{c}_{e}_{key}",
                        help=t("radius_default", metres=f"{default:g}") if default is not None else None,
                    )
                    # A radius left at the activity's default stays unwritten: it follows the effects table
                    if value is None or (own is None and value == default):
                        element.pop(key, None)
                    else:
                        element[key] = value
                if row[5].checkbox(t("delete"), key=f"el_{c}_{e}_delete"):
                    deleted.add((c, e))
        st.markdown(f"**{t('add_element')}**")
        new = st.columns([2, 2, 3, 2])
        coa_ids = [coa["id"] for coa in data["coas"]]
        new_coa = new[0].text_input(t("coa_existing_or_new"), coa_ids[0] if coa_ids else "A", key="new_el_coa")
        new_id = new[1].text_input(t("element_id"), key="new_el_id")
        new_position = new[2].text_input(
            t("position"), key="new_el_position", placeholder="36NWM6870086000 / 6.23N 33.57E / [33.57, 6.23]"
        )
        new_activity = new[3].selectbox(t("activity"), activities, key="new_el_activity")
        buttons = st.columns([2, 2, 3])
        previewed = buttons[0].form_submit_button(t("preview_edit"), key="plan_preview")
        applied = buttons[1].form_submit_button(t("apply"), type="primary", key="plan_apply")
    if not (applied or previewed):
        return
    data["window"] = {"start": start, "end": end}
    data["partner_force"] = partner
    for c, coa in enumerate(data["coas"]):
        coa["elements"] = [el for e, el in enumerate(coa["elements"]) if (c, e) not in deleted]
    data["coas"] = [coa for c, coa in enumerate(data["coas"]) if c not in dropped_coas]
    if new_id.strip():
        chosen = new_coa.strip() or "A"
        target = next((coa for coa in data["coas"] if coa["id"] == chosen), None)
        if target is None:  # a new COA, named after its id until the planner names it
            target = {"id": chosen, "name": chosen, "elements": []}
            data["coas"].append(target)
        target["elements"].append({"id": new_id.strip(), "activity": new_activity, "position": _position(new_position)})
    if previewed:
        _preview(data, path, assessment, effects)
        return
    before = {r.coa.id: r.risk.score for r in assessment.coas}
    edited = write_plan(data, path, state.workdir())
    try:
        with st.status(t("assessing")) as status:
            after = state.current_assessment(edited)
            status.update(label=t("assessed"), state="complete")
    except PlannerError as exc:
        status.update(label=t("edit_refused"), state="error")
        edited.unlink(missing_ok=True)  # a refused edit leaves no version behind
        # Said about the plan the planner is editing, not the file written for the attempt
        show_error(exc, written=edited, said=path.name)
        return
    st.session_state["flash"] = t("edit_result", plan=edited.name, changes=_score_changes(before, after))
    for key in [k for k in st.session_state if str(k).startswith(("el_", "new_el_", "coa_"))]:
        del st.session_state[key]  # the form shows the new version as written, not the fields just applied
    _open_plan(edited)


def _preview(data: dict[str, Any], path: Path, assessment: Assessment, effects: EffectsTable) -> None:
    """The edit on a map before it is applied: read by the plan's own rules from a throwaway copy (nothing is
    assessed, nothing stays on disk), then drawn over the current elements."""
    with tempfile.TemporaryDirectory(dir=state.workdir()) as folder:
        written = write_plan(data, path, Path(folder))
        try:
            edited = load_plan(written, effects, state.settings().limits)
            deck, changes = preview_deck(
                assessment, edited, effects, lang=state.lang(), style_url=state.basemap_style()
            )
        except PlannerError as exc:
            show_error(exc, written=written, said=path.name)
            return
    st.subheader(t("preview_title"))
    st.markdown("\n".join(f"- {md(c)}" for c in changes) if changes else t("preview_none"))
    st.pydeck_chart(deck, height=PREVIEW_HEIGHT_PX, key="plan_preview_map")
    st.caption(t("preview_legend"))


PREVIEW_HEIGHT_PX = 520


def _score_changes(before: dict[str, float], after: Assessment) -> str:
    """'COA A: 53 -> 41; COA D: new, 12': what the edit did to each COA's score."""
    parts = []
    for result in after.coas:
        was = before.get(result.coa.id)
        now = f"{result.risk.score:.0f}"
        parts.append(
            f"{t('coa')} {result.coa.id}: " + (f"{was:.0f} → {now}" if was is not None else f"{t('new')}, {now}")
        )
    parts += [f"{t('coa')} {coa}: {t('deleted')}" for coa in before if coa not in {r.coa.id for r in after.coas}]
    return "; ".join(parts)


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _position_text(value: Any) -> str:
    return f"[{', '.join(str(v) for v in value)}]" if isinstance(value, list) else str(value)


def _position(text: str) -> Any:
    """What a user typed as a position, read by the plan's own rules: ``[lon, lat]`` in brackets is a list, as
    in a plan file; anything else (MGRS, ``6.23N 33.57E``) is text, and a bare ``4.86, 31.59`` is refused by
    the plan reader as ambiguous, as on the command line."""
    inside = re.fullmatch(r"\s*\[\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*\]\s*", text)
    if inside:
        try:
            return [float(inside[1]), float(inside[2])]
        except ValueError:
            pass
    return text.strip()


# --- map -----------------------------------------------------------------------------------------------------------


def map_page() -> None:
    st.title(t("map_title"))
    assessment = _assessment()
    if assessment is None:
        return
    _fictional_banner(assessment)
    _map_view(assessment)


@st.fragment
def _map_view(assessment: Assessment) -> None:
    """The map and its controls: changing a control reruns this part only, not the page."""
    coas = [r.coa.id for r in assessment.coas]
    cols = st.columns([3, 2, 2])
    coa = cols[0].radio(t("coa"), coas, horizontal=True, key="map_coa", format_func=md)
    heat = cols[1].toggle(t("heatmap"), key="map_heatmap")
    may_see = cleared()
    sources = cols[2].toggle(
        t("show_sources"), key="map_sources", disabled=not may_see, help=None if may_see else t("sources_not_cleared")
    )
    redaction = _redaction(sources=sources)
    try:
        deck, statement = state.map_of(assessment, coa, redaction, heatmap=heat, label=t("fictional_map_label"))
    except PlannerError as exc:  # a basemap that cannot be read: said, and no map drawn over nothing
        show_error(exc)
        return
    st.markdown(_headline(assessment, coa))
    st.pydeck_chart(deck, height=MAP_HEIGHT_PX, key="map")
    _legend(density=heat)
    st.caption(md(statement))


# Tall enough for a study area to be read at its own scale on a laptop screen, with the legend below.
MAP_HEIGHT_PX = 760


def _headline(assessment: Assessment, coa: str) -> str:
    """One line above the map: the COA's level, its 0-100 score as Compare shows it, its casualties."""
    result = next(r for r in assessment.coas if r.coa.id == coa)
    w = words(state.lang())
    text = w["tips"]["headline"].format(
        coa=coa,
        level=w["levels"][result.risk.level],
        score=f"{result.risk.score:.0f}",
        casualties=range_text(result.risk.casualties, state.lang()),
        items=len(result.checklist.items),
    )
    return f"**{md(text)}**"


def _legend(*, density: bool = False) -> None:
    def swatch(colour: list[int], label: str, *, rim: bool = False) -> str:
        r, g, b = colour[:3]
        border = "border:1px solid #000;" if rim else ""
        box = f"display:inline-block;width:10px;height:10px;background:rgb({r},{g},{b});{border}margin:0 4px 0 10px"
        return f"<span style='{box}'></span>{label}"

    def outline(colour: list[int], label: str) -> str:
        r, g, b = colour[:3]
        box = f"display:inline-block;width:10px;height:10px;border:2px solid rgb({r},{g},{b});margin:0 4px 0 10px"
        return f"<span style='{box}'></span>{label}"

    w = words(state.lang())
    zones = (
        outline(PALETTE["core"], t("legend_core"))
        + outline(PALETTE["outer"], t("legend_outer"))
        + swatch(PALETTE["risk"], t("legend_risk"))
    )
    lines = (
        swatch(PALETTE["closures"], t("legend_closures"))
        + swatch(PALETTE["routes"], t("legend_routes"))
        + swatch(PALETTE["casevac"], t("legend_casevac"))
    )
    points = (
        swatch(PALETTE["sites"], t("legend_sites"), rim=True)
        + swatch(PALETTE["displacement"], w["categories"]["displacement"], rim=True)
        + swatch(PALETTE["reports"], t("legend_reports"))
    )
    symbols = " · ".join(f"<b>{code}</b> {name}" for code, name in w["symbols"].items())
    body = f"{zones}{lines}<br>{points}<br>{t('legend_symbols')}: {symbols}"
    if density:
        body += f"<br>{t('legend_density')}"
    st.html(f"<div style='font-size:0.8em'>{body}</div>")


# --- compare -------------------------------------------------------------------------------------------------------


# Each input of the score keeps its colour in every language (Okabe-Ito: told apart by colour-blind readers).
INPUT_COLOURS = {
    "blast": "#D55E00",
    "stray_rounds": "#E69F00",
    "rotor_wash": "#56B4E9",
    "movement_restriction": "#0072B2",
    "traffic": "#009E73",
    "drawing_fire": "#CC79A7",
    "harm_by_others": "#000000",
}


def _input_order(key: str) -> tuple[int, str]:
    order = list(INPUT_COLOURS)
    return (order.index(key) if key in order else len(order), key)


def compare_page() -> None:
    st.title(t("compare_title"))
    assessment = _assessment()
    if assessment is None:
        return
    _fictional_banner(assessment)
    w = words(state.lang())
    # One column per input, in a fixed order with a fixed colour each: the colours follow the inputs, not
    # the words of the language they are named in
    inputs = sorted({key for r in assessment.coas for key in r.risk.contributions}, key=_input_order)
    chart = pd.DataFrame(
        {
            t(f"input_{key}") if f"input_{key}" in w else key: [
                r.risk.score * r.risk.contributions[key].share_pct / 100 if key in r.risk.contributions else 0.0
                for r in assessment.coas
            ]
            for key in inputs
        },
        index=pd.Index([r.coa.id for r in assessment.coas], name=t("coa")),
    )
    colours = [INPUT_COLOURS.get(key, "#999999") for key in inputs]
    st.bar_chart(chart, horizontal=True, height=240, color=colours, y_label=t("score"))  # type: ignore[arg-type]
    lang = state.lang()
    table = pd.DataFrame(
        {
            t("coa"): [r.coa.id for r in assessment.coas],
            t("name"): [r.coa.name for r in assessment.coas],
            t("score"): [r.risk.score for r in assessment.coas],
            w["harm"]["range"]: [f"{r.risk.score_range[0]:.0f}-{r.risk.score_range[1]:.0f}" for r in assessment.coas],
            t("level"): [w["levels"][r.risk.level] for r in assessment.coas],
            w["harm"]["casualties"]: [range_text(r.risk.casualties, lang) for r in assessment.coas],
        }
    )
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(f"{w['harm']['casualties']}: {w['harm']['casualties_note']}")
    summary = comparison_text(
        assessment.comparison.ranking,
        assessment.comparison.too_close,
        {r.coa.id: r.risk for r in assessment.coas},
        assessment.settings.risk,
        lang,
    )
    st.markdown(f"**{t('ranking')}:** {md(', '.join(assessment.comparison.ranking))}. {md(summary)}.")
    for result in assessment.coas:
        harm = result.risk.harm
        label = f"{t('why')}: {t('coa')} {md(result.coa.id)} ({w['levels'][result.risk.level]})"
        with st.expander(label, expanded=True):
            home = w["harm"]["present_note"].format(home=f"{100 * harm.home_share:.0f}", hours=f"{harm.window_hours:g}")
            st.caption(md(home))
            for contribution in sorted(result.risk.contributions.values(), key=lambda c: -c.share_pct):
                st.markdown(f"- {md(explain(contribution.input, harm, None, lang))}")
            rows = [
                {
                    w["harm"]["element"]: f.element,
                    w["harm"]["mechanism"]: w["harm"]["mechanisms"][f.mechanism],
                    w["harm"]["casualties"]: range_text(f.casualties, lang),
                    t("people"): people_text(f.people_reached.central, lang),
                }
                for f in harm.mechanisms
            ]
            if rows:
                st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
            if harm.widened_by:
                st.caption(md(f"{w['harm']['widened']}: " + "; ".join(reasons_text(harm.widened_by, lang))))


# --- checklist -----------------------------------------------------------------------------------------------------


def _recorded_choice(assessment: Assessment) -> str | None:
    """The recorded assessment of this plan the session works on; planners may record the current one."""
    store = state.record()
    recorded = store.assessments(assessment.plan.name)
    ids = [r["id"] for r in recorded]
    who = state.user()
    if who is not None and who.role == "planner" and st.button(t("record_now"), key="record_now"):
        try:
            ident = store.record_assessment(who, assessment, state.lang())
        except RecordError as exc:
            show_error(exc)
        else:
            st.session_state["assessment_id"] = ident
            st.rerun()
    if not ids:
        st.info(t("not_recorded_yet"))
        return None
    current = st.session_state.get("assessment_id")
    chosen = st.selectbox(
        t("recorded_assessment"),
        ids,
        index=ids.index(current) if current in ids else 0,
        format_func=lambda i: next(
            f"{i} · {r['recorded_by']} · {r['recorded_at'][:16]}" for r in recorded if r["id"] == i
        ),
        key="recorded_choice",
    )
    st.session_state["assessment_id"] = chosen
    return str(chosen)


def recorded_page(title: str) -> tuple[str, dict[str, Any], Assessment] | None:
    """The opening of the pages that work on a recorded assessment: its id, its status now, and it rebuilt."""
    st.title(title)
    assessment = _assessment()
    if assessment is None:
        return None
    _fictional_banner(assessment)
    ident = _recorded_choice(assessment)
    if ident is None:
        return None
    try:
        return ident, state.record().status(ident), state.recorded_assessment(ident)
    except PlannerError as exc:
        show_error(exc)
        return None


SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


def checklist_page() -> None:
    """The review: one COA at a time, most severe first, filtered, items collapsed to one line, and a bulk
    action for a selection; every save carries the version the reviewer saw."""
    opened = recorded_page(t("checklist_title"))
    if opened is None:
        return
    ident, status, rebuilt = opened
    flash()
    w = words(state.lang())
    counts = ", ".join(f"{n} {w['statuses'][s]}" for s, n in status["counts"].items() if n)
    st.markdown(f"**{ident}** · {counts}")
    who = state.user()
    reviewer = who is not None and who.role in REVIEWERS and not _approved(status)
    coas = [r.coa.id for r in rebuilt.coas]
    coa = st.radio(t("coa"), coas, horizontal=True, key="checklist_coa", format_func=md)
    result = next(r for r in rebuilt.coas if r.coa.id == coa)
    words_of_coa = render(result.checklist, rebuilt.catalogue, state.lang(), coa)
    rendered = {i["id"]: i for i in words_of_coa["items"]}
    mine = [i for i in status["items"] if coa in i["coas"] or not i["coas"]]
    done = sum(i["status"] != "open" for i in mine)
    st.progress(done / len(mine) if mine else 1.0, text=t("reviewed_of", done=done, total=len(mine)))
    items = _filtered(mine, rendered, w)
    for item in items:
        words_of = rendered.get(item["key"].rsplit("/", 1)[-1], {})
        _item_view(ident, item, words_of, coa, w=w, who=who if reviewer else None)
    for context in words_of_coa["context"]:  # about the area, not the operation: shown, not reviewed
        lines = "\n".join(f"- {md(e['text'])}" for e in context["evidence"])
        st.info(f"**{md(context['title'])}** · {md(context['text'])}\n\n{lines}", icon=":material/info:")
    if reviewer and who is not None:
        mayreview = [i for i in items if who.role == "poc_adviser" or who.role in i["owner"]]
        _bulk_form(ident, mayreview, who)
        if who.role == "poc_adviser":
            _add_item_form(ident, coa, who)


def _filtered(items: list[dict[str, Any]], rendered: dict[str, Any], w: dict[str, Any]) -> list[dict[str, Any]]:
    """The items the filters keep, most severe first, findings before prompts, as the checklist orders them."""
    cols = st.columns(4)
    statuses = cols[0].multiselect(
        t("status"), STATUSES, default=[], key="filter_status", format_func=lambda s: w["statuses"][s]
    )
    severities = cols[1].multiselect(
        t("severity"), list(SEVERITY_ORDER), default=[], key="filter_severity", format_func=lambda s: w["severities"][s]
    )
    owners = sorted({o for i in items for o in i["owner"]})
    chosen_owners = cols[2].multiselect(t("owner"), owners, default=[], key="filter_owner", format_func=_role_label)
    kinds = cols[3].multiselect(t("kind"), ["finding", "prompt"], default=[], key="filter_kind", format_func=t)
    kept = [
        i
        for i in items
        if (not statuses or i["status"] in statuses)
        and (not severities or i["severity"] in severities)
        and (not chosen_owners or set(chosen_owners) & set(i["owner"]))
        and (not kinds or i["kind"] in kinds)
    ]
    return sorted(kept, key=lambda i: (SEVERITY_ORDER.get(i["severity"], 3), i["kind"] != "finding", i["key"]))


def _role_label(role: str) -> str:
    key = f"role_{role}"
    return t(key) if key in words(state.lang()) else role


@st.fragment
def _item_view(
    ident: str, item: dict[str, Any], words_of: dict[str, Any], coa: str, *, w: dict[str, Any], who: User | None
) -> None:
    """One item collapsed to a line (key, title, severity, status, first evidence), opened for the rest.

    What an item holds (its text, evidence, history and review form) is drawn only once it is opened, and
    opening it reruns this item alone: a checklist of dozens of items stays light for the browser, so a save,
    which redraws the page to update the counts, takes a moment and not seconds."""
    severity = w["severities"].get(item["severity"], item["severity"])
    title = words_of.get("title", item["title"])
    also = [c for c in item["coas"] if c != coa]
    shared = f" · {t('also_in', coas=', '.join(also))}" if also else ""
    first = words_of["evidence"][0]["text"] if words_of.get("evidence") else ""
    summary = f" · {first[:90]}{'…' if len(first) > 90 else ''}" if first else ""
    label = f"{md(item['key'])} · {md(title)} · {severity} · {w['statuses'][item['status']]}{md(shared)}{md(summary)}"
    opened = f"open:{ident}:{item['key']}"
    # A save pressed is always heard, and its answer shown open: someone else's review changes the line's
    # status, and with it the expander (Streamlit knows an expander by its label), which then starts closed.
    saving = bool(st.session_state.get(f"save_{item['key']}"))
    with st.expander(label, expanded=saving, key=opened, on_change="rerun"):
        if not (st.session_state.get(opened) or saving):
            return
        if words_of:
            st.markdown(md(words_of["text"]))
            st.caption(f"{t('owner')}: {md(words_of['owner_label'])} · {md(words_of['basis'])}")
            for evidence in words_of["evidence"]:
                st.markdown(f"- {md(evidence['text'])}")
            if words_of.get("decided_by"):
                st.caption(f"{t('decided_by')}: {md(words_of['decided_by'])}")
            if words_of.get("lessons"):  # what past harm taught about this rule or activity
                lines = "\n".join(f"- {md(lesson_text(lesson))}" for lesson in words_of["lessons"])
                st.info(f"**{md(w['harm_tracking']['lessons'])}**\n\n{lines}", icon=":material/school:")
        for h in item["history"]:
            note = f" · {md(h['note'])}" if h["note"] else ""
            st.caption(f"{h['at'][:16]} · {md(h['by'])} · {w['statuses'][h['status']]}{note}")
        # A PoC adviser reviews every item; the mission's other civilian officers the items they own
        if who is not None and (who.role == "poc_adviser" or who.role in item["owner"]):
            _review_form(ident, item, who)


def _bulk_form(ident: str, items: list[dict[str, Any]], who: User) -> None:
    """One status and one note for a selection of the items shown; each saved with the version seen."""
    if not items:
        return
    w = words(state.lang())
    st.subheader(t("bulk_title"))
    for item in items:  # the version each item had when this reviewer first saw it
        st.session_state.setdefault(f"seen:{ident}:{item['key']}", item["version"])
    with st.form("bulk_review"):
        keys = [i["key"] for i in items]
        every = st.checkbox(t("bulk_all", n=len(keys)), key="bulk_all")
        chosen = st.multiselect(t("bulk_some"), keys, key="bulk_keys")  # options are plain text
        cols = st.columns([2, 4])
        status = cols[0].selectbox(t("status"), STATUSES[1:], key="bulk_status", format_func=lambda s: w["statuses"][s])
        note = cols[1].text_input(t("note"), key="bulk_note")
        if st.form_submit_button(t("bulk_apply"), key="bulk_submit"):
            selected = keys if every else chosen
            if not selected:
                st.warning(t("bulk_none"), icon=":material/help:")
                return
            saved, refused = [], []
            for key in selected:
                seen = f"seen:{ident}:{key}"
                try:
                    version = state.record().review(
                        who, ident, key, status=status, note=note, expected_version=st.session_state[seen]
                    )
                    st.session_state[seen] = version
                    saved.append(key)
                except ConflictError:
                    refused.append(key)
                except (RecordError, InputError) as exc:
                    show_error(exc)
                    return
            st.session_state["flash"] = t("bulk_saved", n=len(saved))
            if refused:  # shown as a warning after the rerun: nothing of theirs was overwritten
                st.session_state["flash_warning"] = t("bulk_conflicts", keys=", ".join(refused))
                # Now seen, as in the one-item form: applying again is a deliberate overwrite, not a loop of refusals
                now = {i["key"]: i["version"] for i in state.record().status(ident)["items"]}
                for key in refused:
                    st.session_state[f"seen:{ident}:{key}"] = now[key]
            st.rerun()


def _approved(status: dict[str, Any]) -> bool:
    signed = status["signoff"]
    return bool(signed and signed["decision"] != "reject")


def _review_form(ident: str, item: dict[str, Any], who: User) -> None:
    key = item["key"]
    # The version this adviser saw when the item was first drawn for them. A rerun re-reads the record, so
    # the version on screen now may already include someone else's review: that one must be a conflict.
    seen = f"seen:{ident}:{key}"
    st.session_state.setdefault(seen, item["version"])
    with st.form(f"review_{key}"):
        cols = st.columns([2, 4])
        status = cols[0].selectbox(
            t("status"),
            STATUSES,
            index=STATUSES.index(item["status"]),
            key=f"status_{key}",
            format_func=lambda s: words(state.lang())["statuses"][s],
        )
        note = cols[1].text_input(t("note"), key=f"note_{key}")
        if st.form_submit_button(t("save"), key=f"save_{key}"):
            try:
                version = state.record().review(
                    who, ident, key, status=status, note=note, expected_version=st.session_state[seen]
                )
            except ConflictError as exc:
                st.session_state[seen] = item["version"]  # now seen: saving again is a deliberate overwrite
                st.warning(md(exc), icon=":material/sync_problem:")
                return
            except (RecordError, InputError) as exc:
                show_error(exc)
                return
            st.session_state[seen] = version
            st.session_state["flash"] = t("saved", key=key, version=version)  # shown after the rerun
            st.rerun()


def _add_item_form(ident: str, coa: str, who: User) -> None:
    st.subheader(t("add_item"))
    with st.form("add_item", clear_on_submit=True):
        title = st.text_input(t("title"), key="item_title")
        text = st.text_area(t("text"), key="item_text")
        cols = st.columns(2)
        owner = cols[0].text_input(t("owner"), value="planner", key="item_owner")
        severity = cols[1].selectbox(t("severity"), ("high", "medium", "low"), index=1, key="item_severity")
        if st.form_submit_button(t("add_item"), key="add_item_submit"):
            try:
                key = state.record().add_item(
                    who, ident, title=title, owner=owner, text=text, severity=severity, coa=coa
                )
            except (RecordError, InputError) as exc:
                show_error(exc)
                return
            st.session_state["flash"] = t("item_added", key=key)
            st.rerun()


# --- sign-off and outputs ------------------------------------------------------------------------------------------


def signoff_page() -> None:
    """The commander's page: each COA in one screen (level, estimate, main reasons, open items), the decision
    in force and its history, and the decision form."""
    opened = recorded_page(t("signoff_title"))
    if opened is None:
        return
    ident, status, rebuilt = opened
    signed = status["signoff"]
    w = words(state.lang())
    if signed is None:
        st.info(t("not_signed"))
    elif signed["valid"]:
        st.success(f"{t('valid')}: {_decision_text(signed, w)}", icon=":material/verified:")
    else:
        st.error(
            f"{t('void')}: {_decision_text(signed, w)} · {md('; '.join(signed['void_because']))}",
            icon=":material/gpp_bad:",
        )
    _coa_panels(rebuilt, status, w)
    if status["signoff_history"]:
        st.subheader(t("signoff_history"))
        st.dataframe(pd.DataFrame(_history_rows(status["signoff_history"], w)), hide_index=True, width="stretch")
    who = state.user()
    if who is not None and who.role == "commander":
        _signoff_form(ident, who, [r.coa.id for r in rebuilt.coas], decided=signed is not None)
    redaction = _redaction()
    found = recorded_bundle(state.record(), ident, rebuilt, redaction, lang=state.lang())
    with st.expander(t("brief_preview")):
        components.html(state.brief_page(ident, rebuilt, found), height=900, scrolling=True)
    _downloads(ident, rebuilt, found, redaction)


def _decision_text(signed: dict[str, Any], w: dict[str, Any]) -> str:
    chosen = f" · {t('coa')} {md(signed['coa'])}" if signed["coa"] else ""
    return f"{w['decisions'][signed['decision']]}{chosen} · {md(signed['by'])} · {signed['at'][:16]}"


def _history_rows(history: list[dict[str, Any]], w: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            t("when"): h["at"][:16],
            t("by"): h["by"],
            t("decision"): w["decisions"][h["decision"]],
            t("coa"): h["coa"] or "—",
            t("conditions"): h["conditions"],
            t("why_replaced"): h["note"],
            t("validity"): (t("valid") if h["valid"] else f"{t('void')}: {'; '.join(h['void_because'])}")
            + ("" if n == len(history) - 1 else f" ({t('superseded')})"),
        }
        for n, h in enumerate(history)
    ]


def _coa_panels(assessment: Assessment, status: dict[str, Any], w: dict[str, Any]) -> None:
    """Per COA: its level and estimate, its main reasons, and its items still open, most severe first."""
    lang = state.lang()
    order = {"high": 0, "medium": 1, "low": 2}
    columns = st.columns(len(assessment.coas))
    for column, result in zip(columns, assessment.coas, strict=True):
        coa = result.coa.id
        mine = [i for i in status["items"] if coa in i["coas"] or not i["coas"]]
        still_open = sorted((i for i in mine if i["status"] == "open"), key=lambda i: order[i["severity"]])
        with column.container(border=True):
            st.markdown(f"**{t('coa')} {md(coa)}** · {md(result.coa.name)}")
            st.markdown(
                f"{w['levels'][result.risk.level]} · {result.risk.score:.0f}/100 · "
                f"{w['harm']['casualties']}: {range_text(result.risk.casualties, lang)}"
            )
            top = sorted(result.risk.contributions.values(), key=lambda c: -c.share_pct)[:2]
            for contribution in top:
                st.caption(md(explain(contribution.input, result.risk.harm, None, lang)))
            closed = len(mine) - len(still_open)
            st.progress(closed / len(mine) if mine else 1.0, text=t("reviewed_of", done=closed, total=len(mine)))
            rules = assessment.catalogue.language(lang).rules  # titles in the reader's language, not the record's
            for item in still_open[:8]:
                rule = item["key"].rsplit("/", 1)[-1]
                title = rules[rule].title if item["source"] == "rule" and rule in rules else item["title"]
                st.markdown(f"- {w['severities'][item['severity']]} · {md(item['key'])} {md(title)}")
            if len(still_open) > 8:
                st.caption(t("more_open", n=len(still_open) - 8))


def _signoff_form(ident: str, who: User, coas: list[str], *, decided: bool) -> None:
    w = words(state.lang())
    with st.form("signoff"):
        decision = st.radio(t("decision"), DECISIONS, key="decision", format_func=lambda d: w["decisions"][d])
        coa = st.selectbox(t("coa_chosen"), coas, key="decision_coa")  # options are plain text
        conditions = st.text_area(t("conditions"), key="conditions")
        note = st.text_area(t("supersede_note"), key="decision_note") if decided else ""
        confirmed = st.checkbox(t("confirm_decision"), key="decision_confirmed")
        if st.form_submit_button(t("sign"), key="signoff_submit"):
            if not confirmed:
                st.warning(t("confirm_first"), icon=":material/help:")
                return
            chosen = "" if decision == "reject" else coa
            try:
                state.record().signoff(who, ident, decision=decision, coa=chosen, conditions=conditions, note=note)
            except (RecordError, InputError) as exc:
                show_error(exc)
                return
            st.rerun()


def _downloads(ident: str, assessment: Assessment, found: Bundle, redaction: Redaction) -> None:
    """The same brief and exports as ``primum brief`` and ``primum export``, as downloads. Each file is made
    when its button is clicked, not on every rerun of the page."""
    st.subheader(t("downloads"))
    shared = st.toggle(t("shared_outside"), key="shared_outside", help=t("shared_outside_help"))
    if shared:
        redaction = policy(None, state.settings().redaction, coarsen_km=state.settings().redaction.coarsen_km)
        found = recorded_bundle(state.record(), ident, assessment, redaction, lang=state.lang())
    cols = st.columns(len(EXPORT_FORMATS) + 2)
    for col, fmt, mime in ((cols[0], "html", "text/html"), (cols[1], "pdf", "application/pdf")):
        col.download_button(
            f"brief.{fmt}", partial(brief, assessment, found, fmt), f"{ident}-brief.{fmt}", mime, key=f"dl_{fmt}"
        )
    for col, fmt in zip(cols[2:], EXPORT_FORMATS, strict=True):
        name = _export_name(fmt, ident)
        mime = "application/zip" if name.endswith(".zip") else "application/octet-stream"
        col.download_button(fmt, partial(_export_bytes, found, fmt, ident), name, mime, key=f"dl_{fmt}")
    st.caption(md(" ".join(found.statement)))


_SUFFIXES = {"gpkg": ".gpkg", "geotiff": ".tif", "kml": ".kml", "geojson": "", "csv": ""}


def _export_name(fmt: str, ident: str) -> str:
    """The download's file name: a folder format (GeoJSON, CSV) arrives zipped."""
    suffix = _SUFFIXES[fmt]
    return f"{ident}-{fmt}{suffix}" if suffix else f"{ident}-{fmt}.zip"


def _export_bytes(found: Bundle, fmt: str, ident: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"{ident}-{fmt}{_SUFFIXES[fmt]}"
        export(found, fmt, out)
        if out.is_dir():
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(out.iterdir()):
                    archive.write(path, f"{out.name}/{path.name}")
            return buffer.getvalue()
        return out.read_bytes()


__all__ = [
    "checklist_page",
    "cleared",
    "compare_page",
    "flash",
    "map_page",
    "md",
    "plan_page",
    "recorded_page",
    "show_error",
    "sidebar",
    "signin_page",
    "signoff_page",
]
