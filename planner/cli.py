"""The ``primum`` command. It only parses arguments and prints what the library returns.

Exit codes: 0 success; 2 bad input (the message names the file, the row or key, and the fix); 1 a file
that cannot be read at all.
"""

from __future__ import annotations

import gc
import json
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from planner.errors import DataIOError, InputError, RecordError
from planner.vocabulary import (
    BRIEF_FORMATS,
    DECISIONS,
    EXPORT_FORMATS,
    HARM_CONFIDENCE,
    HARM_SOURCES,
    HARM_STEP_STATUSES,
    HARM_STEPS,
    ROLES,
    STATUSES,
    SUPPORT_KINDS,
    SUPPORT_REVIEW_STATUSES,
)

if TYPE_CHECKING:
    from planner.layers.manifest import LayerSet
    from planner.past_harm import HarmHistory
    from planner.plan import Plan
    from planner.record import Record, User
    from planner.scale.sweep import BetterPosition
    from planner.settings import Settings

# Each command imports what it needs when it runs: `primum --help` or `primum verify` should not pay for
# geopandas, the record's database layer or the brief's PDF engine.


def _command_line() -> typer.Typer:
    return typer.Typer(
        name="primum",
        help="Pre-operation civilian risk assessment for peacekeeping operations.",
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,  # plain help: the same words, without loading a terminal renderer (a quarter second)
    )


app = _command_line()

F = TypeVar("F", bound=Callable[..., Any])


def _user_errors(func: F) -> F:
    """Bad input is the user's to fix: print the problems, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (InputError, RecordError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        except DataIOError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def _loading() -> Iterator[None]:
    """Where a command imports its libraries. They make over a hundred thousand objects that live as long as
    the process, and the cyclic garbage collector would walk them again at each of its passes while they load
    and while the command works: 0.07 s of a cold assessment of the sample, of which 0.01 s is left. So they
    load with the collector paused and are then frozen out of its sight; what the command itself makes is
    collected as always."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _is_plan(path: Path) -> bool:
    from planner._yamlfile import load_yaml

    data = load_yaml(path)
    return isinstance(data, dict) and "coas" in data


@app.command()
@_user_errors
def validate(
    path: Annotated[Path, typer.Argument(help="a layer-set manifest (layers/*.yaml) or a plan (scenarios/*.yaml)")],
    on: Annotated[
        str | None, typer.Option(help="date to judge data age against (default: the plan's start, or today)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    settings_path: Annotated[Path | None, typer.Option("--settings", help="a mission settings file (TOML)")] = None,
) -> None:
    """Load a layer set or a plan with its layers; report per layer what was read, dropped and flagged."""
    with _loading():
        from planner.effects import load_effects_table
        from planner.layers.manifest import load_layerset
        from planner.plan import check_plan_in_layers, load_plan, plan_summary
        from planner.settings import load_settings

    limits = load_settings(settings_path).limits
    report: dict[str, Any] = {}
    if _is_plan(path):
        plan = load_plan(path, limits=limits)
        effects = load_effects_table(plan.effects_table)
        layerset = load_layerset(plan.layers_path, _progress, limits=limits)
        check_plan_in_layers(plan, layerset)
        reference = _date(on) if on else plan.window.start.date()
        report["plan"] = plan_summary(plan, effects)
    else:
        layerset = load_layerset(path, _progress, limits=limits)
        reference = _date(on) if on else date.today()
    report["layerset"] = _layerset_report(layerset, reference)
    report["usable"] = True
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
    else:
        typer.echo(_render(report))


def _progress(layer_id: str, number: int, count: int) -> None:
    """Which layer is being read, for a person watching a long validation (not for scripts reading stderr)."""
    if sys.stderr.isatty():
        typer.echo(f"reading layer {number}/{count}: {layer_id}", err=True)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError.single("--on", "", f"'{text}' is not a date", "write it as YYYY-MM-DD") from None


def _layerset_report(layerset: LayerSet, on: date) -> dict[str, Any]:
    return {
        "area": layerset.area,
        "path": str(layerset.path),
        "fictional": layerset.fictional,
        "ages_on": on.isoformat(),
        "extent": layerset.extent,
        "layers": [layer.summary(on) for layer in layerset],
        "cross_layer_flags": [{"code": f.code, "layer": f.layer, "message": f.message} for f in layerset.flags],
    }


def _render(report: dict[str, Any]) -> str:
    lines: list[str] = []
    if "plan" in report:
        plan = report["plan"]
        lines += [
            f"Plan: {plan['name']}",
            f"  file {plan['path']}  sha256 {plan['sha256'][:16]}",
            (
                f"  window {plan['window']['start']} to {plan['window']['end']}; partner force: "
                f"{'yes' if plan['partner_force'] else 'no'}; effects table: {plan['effects_table']}"
            ),
        ]
        if plan["fictional"]:
            lines.append("  FICTIONAL training scenario")
        for coa in plan["coas"]:
            lines.append(f"  COA {coa['id']}: {coa['name']}")
            for e in coa["elements"]:
                lines.append(
                    f"    {e['id']:<12} {e['activity']:<16} {e['shape']:<6} at {e['mgrs']} "
                    f"({e['at'][1]:.5f}, {e['at'][0]:.5f})  core {e['core_m']:g} m, outer {e['outer_m']:g} m"
                    f" [{e['radii_from']}]"
                )
        lines.append("")
    ls = report["layerset"]
    lines.append(f"Layer set: {ls['area']}  ({ls['path']})")
    if ls["fictional"]:
        lines.append("  FICTIONAL area: every figure is invented")
    lines.append(f"  data age judged on {ls['ages_on']}")
    header = f"  {'layer':<16} {'kind':<13} {'read':<22} {'dropped':>7}  {'as of':<10} {'age (d)':>7}  crs"
    lines += [header, "  " + "-" * (len(header) - 2)]
    for layer in ls["layers"]:
        read = str(layer.get("read", ""))
        if layer["kind"] == "population":
            read = f"{read}, {layer['pixel_size_m']:g} m"
        dropped = sum(len(d["rows"]) for d in layer["dropped"])
        age = "" if layer["age_days"] is None else str(layer["age_days"])
        lines.append(
            f"  {layer['id']:<16} {layer['kind']:<13} {read:<22} {dropped:>7}  {layer['as_of'] or '-':<10} "
            f"{age:>7}  {layer.get('source_crs', '')}"
        )
        for key in ("by_category", "by_kind", "by_road_class"):
            if key in layer:
                lines.append("      " + ", ".join(f"{k} {v}" for k, v in layer[key].items()))
        if "by_status" in layer:
            lines.append(
                "      status: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in layer["by_status"].items())
            )
        if layer.get("read_as"):
            lines.append("      read as " + ", ".join(f"{k} {v}" for k, v in layer["read_as"].items()))
        if "population_total" in layer:
            unknown = layer["population_unknown_sites"]
            who = "people" if layer["kind"] == "population_table" else "displaced people"
            lines.append(
                f"      {layer['population_total']:,.0f} {who} counted"
                + (f"; {unknown} site(s) without a figure" if unknown else "")
            )
        if "date_range" in layer:
            lines.append(f"      reports from {layer['date_range'][0]} to {layer['date_range'][1]}")
        if layer.get("bounds"):
            west, south, east, north = layer["bounds"]
            lines.append(f"      extent lon {west:.4f} to {east:.4f}, lat {south:.4f} to {north:.4f}")
        if layer["sensitive"]:
            lines.append(f"      sensitive fields (never shown uncleared): {', '.join(layer['sensitive'])}")
        lines.extend(f"      dropped {len(d['rows'])}: {d['reason']}" for d in layer["dropped"])
        lines.extend(f"      ! {f['message']}" for f in layer["flags"])
    lines.extend(f"  ! {f['message']}" for f in ls["cross_layer_flags"])
    lines.append("")
    lines.append("Usable: yes")
    return "\n".join(lines)


@app.command()
@_user_errors
def assess(
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN", help="an operation plan (scenarios/*.yaml)")],
    *,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="write the full result as JSON to this file ('-' for standard output)")
    ] = None,
    settings_path: Annotated[Path | None, typer.Option("--settings", help="a mission settings file (TOML)")] = None,
    lang: Annotated[str, typer.Option("--lang", help="language of the precaution checklist (en, fr)")] = "en",
    record: Annotated[bool, typer.Option("--record", help="keep the assessment in the record for review")] = False,
    as_user: Annotated[str | None, typer.Option("--as", help="the planner recording it (with --record)")] = None,
    sweeps: Annotated[
        list[Path] | None,
        typer.Option("--sweep", help="a sweep's JSON (primum sweep --json): P16 names its better position"),
    ] = None,
) -> None:
    """Assess every course of action of a plan: exposure, threat context, risk, precautions, how the COAs compare."""
    with _loading():
        from planner.assess import assess as run_assessment
        from planner.catalogue import load_catalogue
        from planner.plan import open_plan
        from planner.settings import load_settings

    settings = load_settings(settings_path)
    catalogue = load_catalogue(settings.checklist.catalogue)
    catalogue.language(lang)  # an unknown language is an input error before any work is done
    if sweeps and record:
        raise InputError.single(
            "--sweep",
            "",
            "the record keeps an assessment rebuilt from its inputs, and a sweep's result is not one of them yet",
            "record the assessment without --sweep, and keep the sweep's JSON beside it",
        )
    store, user = _signed_in(settings, as_user) if record else (None, None)
    plan, layerset = open_plan(plan_path, settings.limits, settings=settings)
    history = _harm_history(settings, store)
    better = _better_positions(sweeps or [], plan)
    assessment = run_assessment(plan, layerset, settings, catalogue=catalogue, history=history, better=better)
    result = assessment.to_dict(lang)
    if store is not None and user is not None:
        ident = store.record_assessment(user, assessment, lang)
        typer.echo(f"recorded as {ident}")
    _show(result, json_out, render_assessment)


def _better_positions(paths: list[Path], plan: Plan) -> list[BetterPosition]:
    if not paths:
        return []
    from planner.scale.sweep import load_better

    return [better for path in paths if (better := load_better(path, plan)) is not None]


def _show(result: dict[str, Any], json_out: Path | None, render: Callable[[dict[str, Any]], str]) -> None:
    """The result for people, and as JSON to a file (written whole or not at all) or alone on standard output."""
    if json_out is not None:
        text = json.dumps(result, indent=2, ensure_ascii=False)
        if str(json_out) == "-":
            typer.echo(text)
            return
        _write_atomically(json_out, text)
    typer.echo(render(result))
    if json_out is not None:
        typer.echo(f"\nFull result: {json_out}")


def _write_atomically(path: Path, content: str | bytes) -> None:
    """Write through a temporary file so a failure never leaves half a result."""
    if not path.parent.is_dir():
        raise InputError.single(path, "", "its folder does not exist", "create the folder or name another path")
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(content if isinstance(content, bytes) else (content + "\n").encode("utf-8"))
    tmp.replace(path)


def render_assessment(result: dict[str, Any]) -> str:
    from planner.harm import Range
    from planner.risk import people_text, range_text

    plan = result["plan"]
    lines = [f"{plan['name']}  ({result['area']})", f"window {plan['window']['start']} to {plan['window']['end']}"]
    if plan["fictional"]:
        lines.append("FICTIONAL training data: every figure is invented")
    lines.append("")
    header = (
        f"{'COA':<4} {'score':>5} {'(range)':>9}  {'level':<8} {'casualties (range)':>20} "
        f"{'people core':>11} {'outer':>7} {'displaced core':>14} {'outer':>7} {'sites':>5} {'reports':>7}"
    )
    lines += [header, "-" * len(header)]
    for coa in result["coas"]:
        ex, found = coa["exposure"], coa["risk"]
        low, high = found["score_range"]
        lines.append(
            f"{coa['id']:<4} {found['score']:>5.0f} {f'({low:.0f}-{high:.0f})':>9}  {found['level']:<8} "
            f"{range_text(Range(**found['casualties'])):>20} "
            f"{people_text(ex['core']['people']):>11} {people_text(ex['outer']['people']):>7} "
            f"{people_text(ex['core']['displaced']):>14} {people_text(ex['outer']['displaced']):>7} "
            f"{len(coa['sites']):>5} {coa['threats']['count']:>7}"
        )
    for coa in result["coas"]:
        lines.append(f"\nCOA {coa['id']}: {coa['name']}")
        lines.extend(_harm_lines(coa["risk"]))
        for figure, flags in coa["exposure"]["flags"].items():
            lines.extend(f"  ! {figure}: {flag['message']}" for flag in flags)
        lines.extend(f"  ! threats: {flag['message']}" for flag in coa["threats"]["flags"])
        lines.extend(_access_lines(coa["access"]))
        lines.extend(_checklist_lines(coa["checklist"]))
    lines.append(
        f"\nComparison (least harm first): {', '.join(result['comparison']['ranking'])}. "
        f"{result['comparison']['summary']}."
    )
    if result["warnings"]:
        lines.append("\nData warnings:")
        lines.extend(f"  ! {w['message']}" for w in result["warnings"])
    past = result["provenance"]["past_harm"]
    lines.append(
        f"\nPast harm: {len(past['records'])} harm record(s) of the record in use ({past['source']})"
        if past["source"]
        else "\nPast harm: no record in use, so this force's past harm near the footprint is unknown (set PRIMUM_DB)"
    )
    lines.append(f"People counts rounded as in field reports; effects table: {result['provenance']['effects_table']}.")
    return "\n".join(lines)


def _harm_lines(found: dict[str, Any]) -> list[str]:
    """The estimate: expected casualties, other harms, each input's share and why the range is wide."""
    from planner.harm import Range
    from planner.risk import harm_text, range_text
    from planner.words import words

    present = found["present"]
    casualties = range_text(Range(**found["casualties"]))
    at_home = f"{present['home_share']:.0%} of residents at home over the {present['window_hours']:g} h window"
    lines = [f"  expected casualties (killed or injured): {casualties}; {at_home}"]
    phrases = words("en")["harm"]["harms"]
    others = [
        phrases[key].format(value=harm_text(key, r["central"]))
        for key, r in found["harms"].items()
        if r["central"] >= 0.05
    ]
    if others:
        lines.append(f"  other harms: {', '.join(others)}")
    for contribution in sorted(found["contributions"].values(), key=lambda c: -c["share_pct"]):
        lines.append(f"  - {contribution['explanation']}")
    lines.extend(f"  ~ range widened: {reason}" for reason in found["widened_by"])
    return lines


def _access_lines(found: dict[str, Any]) -> list[str]:
    """Access on the road network in a few lines: closures, cut-offs, CASEVAC, route alternatives."""
    from planner.risk import people_text

    lines = []
    closed = sorted({c["road_id"] for c in found["closures"]})
    if closed:
        lines.append(f"  road closures: {', '.join(closed)}")
    for cut in found["cut_off"]:
        lines.append(
            f"  cut off from {', '.join(cut['lost'])}: {cut['name']} ({people_text(cut['people'])} people) "
            f"by closing {', '.join(cut['closed_roads'])}"
        )
    for route in found["routes"]:
        markets = [
            f"{m['name']} ({'open' if m['open_during'] else 'hours unknown' if m['open_during'] is None else 'closed'})"
            for m in route["markets"]
        ]
        lines.append(
            f"  route {route['element']}: {people_text(route['people_along'])} people along"
            + (f"; markets passed: {', '.join(markets)}" if markets else "")
            + f"; {len(route['alternatives'])} alternative(s) on the network"
        )
    for evac in found["casevac"]:
        where = f"{evac['facility']} in {evac['time_min']:.0f} min" if evac["time_min"] is not None else evac["reason"]
        lines.append(f"  CASEVAC {evac['patients']} from {evac['element']}: {where}")
    lines.extend(f"  ! access: {flag['message']}" for flag in found["flags"])
    return lines


def _checklist_lines(checklist: dict[str, Any]) -> list[str]:
    """Each precaution raised, most severe first, with its first piece of evidence."""
    items = checklist["items"]
    prompts = sum(item["kind"] == "prompt" for item in items)
    quiet = len(checklist["not_raised"])
    lines = [
        f"  precautions: {len(items) - prompts} raised by the data, {prompts} to check; {quiet} checked, not raised"
    ]
    for item in items:
        mark = "?" if item["kind"] == "prompt" else "*"
        first = next((e for e in item["evidence"] if e["decided"]), item["evidence"][0])["text"]
        more = f" (+{len(item['evidence']) - 1})" if len(item["evidence"]) > 1 else ""
        shared = [c for c in item.get("coas", []) if c != item.get("coas", [""])[0]]
        once = f" [one review with COA {', '.join(item['coas'])}]" if shared else ""
        lines.append(f"  {mark} {item['id']} [{item['severity_label']}] {item['title']}: {first}{more}{once}")
        for lesson in item.get("lessons", []):  # what past harm taught about this rule or activity
            mitigations = f" (mitigations: {lesson['mitigations']})" if lesson["mitigations"] else ""
            lines.append(f"      lesson of {lesson['harm_id']}: {lesson['text']}{mitigations}")
    for item in checklist.get("context", []):  # about the area, not the operation: not reviewed
        lines.extend(f"  - context {item['id']} {item['title']}: {e['text']}" for e in item["evidence"])
    return lines


@app.command()
@_user_errors
def sample(
    root: Annotated[Path, typer.Option(help="project root to write data/sample/ and scenarios/ under")] = Path(),
) -> None:
    """Regenerate the bundled FICTIONAL sample area (deterministic: the same files every time)."""
    from planner.sample import write_sample

    for path in write_sample(root):
        typer.echo(f"wrote {path}")


def _record(settings: Settings) -> Record:
    from planner.record import Record
    from planner.record.location import store_url

    key, anchor = settings.record.audit_key, settings.record.audit_anchor
    return Record.open(
        store_url(settings.record.db, settings.record.data_dir),
        key_file=Path(key) if key else None,
        anchor=Path(anchor) if anchor else None,
    )


def _harm_history(settings: Settings, store: Record | None) -> HarmHistory:
    """This force's past harm from the record in use; none read (unknown, not none) when there is no record."""
    from planner.past_harm import HarmHistory
    from planner.record.location import exists, store_url

    if store is None:
        if not exists(store_url(settings.record.db, settings.record.data_dir)):
            return HarmHistory()
        store = _record(settings)
    from planner.record.harm import HarmLog

    return HarmLog(store).history()


def _signed_in(settings: Settings, name: str | None) -> tuple[Record, User]:
    """The record and the user ``--as`` names, signed in with PRIMUM_PASSWORD or a prompt."""

    if not name:
        raise RecordError("say who you are with --as USER")
    store = _record(settings)
    password = os.environ.get("PRIMUM_PASSWORD")
    if password is None:
        password = typer.prompt(f"password for {name}", hide_input=True)
    return store, store.sign_in(name, password)


SettingsOption = Annotated[Path | None, typer.Option("--settings", help="mission settings (TOML): where the record is")]
AsOption = Annotated[str, typer.Option("--as", help="who you are (password from PRIMUM_PASSWORD or a prompt)")]

users_app = typer.Typer(help="Manage the users of the record (admins).", no_args_is_help=True, rich_markup_mode=None)
item_app = typer.Typer(help="Items of an assessment's checklist.", no_args_is_help=True, rich_markup_mode=None)
harm_app = typer.Typer(
    help="Civilian harm after an operation: take it in, walk it through review, decision and response.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(users_app, name="users")
app.add_typer(item_app, name="item")
support_app = typer.Typer(
    help="Support to non-UN forces (HRDDP): register it, review the supported unit, list the register.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(harm_app, name="harm")
app.add_typer(support_app, name="support")


@users_app.command("add")
@_user_errors
def users_add(
    name: Annotated[str, typer.Argument(help="the new user's name")],
    role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLES)}")],
    as_user: Annotated[
        str | None, typer.Option("--as", help="the admin adding the user (not for the first admin)")
    ] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the new password from stdin")] = False,
    settings_path: SettingsOption = None,
) -> None:
    """Add a user with a role. The first user of a new record is its admin and needs no --as."""
    from planner.settings import load_settings

    settings = load_settings(settings_path)
    store = _record(settings)
    actor = _signed_in(settings, as_user)[1] if as_user else None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt(f"new password for {name}", hide_input=True, confirmation_prompt=True)
    user = store.add_user(actor, name, role, password)
    typer.echo(f"added {user.name} ({user.role})")


@users_app.command("list")
@_user_errors
def users_list(as_user: AsOption, settings_path: SettingsOption = None) -> None:
    """Every user with their role and whether they may sign in (admins)."""
    from planner.settings import load_settings

    store, admin = _signed_in(load_settings(settings_path), as_user)
    for user in store.list_users(admin):
        state = "" if user["active"] else "  (deactivated)"
        typer.echo(
            f"{user['name']:<24} {user['role']:<26} added {user['created_at'][:10]} by {user['created_by']}{state}"
        )


@users_app.command("change")
@_user_errors
def users_change(
    name: Annotated[str, typer.Argument(help="the user to change")],
    as_user: AsOption,
    *,
    role: Annotated[str | None, typer.Option(help=f"a new role: one of {', '.join(ROLES)}")] = None,
    reset_password: Annotated[bool, typer.Option(help="set a new password (prompted, or --password-stdin)")] = False,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the new password from stdin")] = False,
    deactivate: Annotated[
        bool, typer.Option(help="keep the user and their record; they may no longer sign in")
    ] = False,
    activate: Annotated[bool, typer.Option(help="let a deactivated user sign in again")] = False,
    settings_path: SettingsOption = None,
) -> None:
    """Change a user's role, reset their password, or (de)activate them (admins; audited)."""
    from planner.settings import load_settings

    if deactivate and activate:
        raise RecordError("say --deactivate or --activate, not both")
    password = None
    if reset_password or password_stdin:
        password = (
            sys.stdin.readline().rstrip("\n")
            if password_stdin
            else typer.prompt(f"new password for {name}", hide_input=True, confirmation_prompt=True)
        )
    settings = load_settings(settings_path)
    store, admin = _signed_in(settings, as_user) if not password_stdin else _signed_in_env(settings, as_user)
    active = False if deactivate else True if activate else None
    user = store.change_user(admin, name, role=role, password=password, active=active)
    typer.echo(f"changed {user.name} ({user.role})")


def _signed_in_env(settings: Settings, name: str) -> tuple[Record, User]:
    """Signed in with PRIMUM_PASSWORD only: standard input already carries the new password."""
    if os.environ.get("PRIMUM_PASSWORD") is None:
        raise RecordError("with --password-stdin, give your own password in PRIMUM_PASSWORD")
    return _signed_in(settings, name)


@app.command()
@_user_errors
def review(
    assessment_id: Annotated[str, typer.Argument(metavar="ID")],
    item: Annotated[str, typer.Argument(metavar="ITEM", help="e.g. A/P05, or P05 when one COA has it")],
    *,
    status: Annotated[str, typer.Option(help=f"one of {', '.join(STATUSES)}")],
    as_user: AsOption,
    note: Annotated[str, typer.Option(help="why (required for accepted_risk, not_applicable, change_requested)")] = "",
    expect_version: Annotated[
        int | None, typer.Option(help="the item version you reviewed; refused if someone changed it since")
    ] = None,
    settings_path: SettingsOption = None,
) -> None:
    """Review one checklist item (PoC advisers)."""
    from planner.settings import load_settings

    store, user = _signed_in(load_settings(settings_path), as_user)
    version = store.review(user, assessment_id, item, status=status, note=note, expected_version=expect_version)
    typer.echo(f"{assessment_id} {item}: {status} (version {version})")


@item_app.command("add")
@_user_errors
def item_add(
    assessment_id: Annotated[str, typer.Argument(metavar="ID")],
    *,
    title: Annotated[str, typer.Option(help="the precaution, in a few words")],
    owner: Annotated[str, typer.Option(help="who acts on it (planner, commander, engineers ...)")],
    as_user: AsOption,
    text: Annotated[str, typer.Option(help="what to do, in full")] = "",
    severity: Annotated[str, typer.Option(help="high, medium or low")] = "medium",
    coa: Annotated[str, typer.Option(help="the COA it concerns (default: the whole plan)")] = "",
    settings_path: SettingsOption = None,
) -> None:
    """Add a precaution by hand (PoC advisers); it starts open like every other item."""
    from planner.settings import load_settings

    store, user = _signed_in(load_settings(settings_path), as_user)
    key = store.add_item(user, assessment_id, title=title, owner=owner, text=text, severity=severity, coa=coa)
    typer.echo(f"added {key}")


@app.command()
@_user_errors
def signoff(
    assessment_id: Annotated[str, typer.Argument(metavar="ID")],
    *,
    decision: Annotated[str, typer.Option(help=f"one of {', '.join(DECISIONS)}")],
    as_user: AsOption,
    coa: Annotated[str, typer.Option(help="the COA approved (needed when the plan has several)")] = "",
    conditions: Annotated[str, typer.Option(help="the conditions of an approval with conditions")] = "",
    note: Annotated[str, typer.Option(help="why this decision replaces an earlier one")] = "",
    settings_path: SettingsOption = None,
) -> None:
    """Decide on an assessment (commanders): approve one COA, refused while any of its items is open, or
    reject the plan. A decision replacing an earlier one needs a note."""
    from planner.settings import load_settings

    store, user = _signed_in(load_settings(settings_path), as_user)
    ident = store.signoff(user, assessment_id, decision=decision, coa=coa, conditions=conditions, note=note)
    chosen = f" COA {coa}" if coa else ""
    typer.echo(f"sign-off {ident}: {decision}{chosen} by {user.name}, bound to the assessment and its input files")


@harm_app.command("add")
@_user_errors
def harm_add(
    assessment_id: Annotated[str, typer.Argument(metavar="ASSESSMENT_ID", help="the assessment it followed")],
    *,
    coa: Annotated[str, typer.Option(help="the COA carried out")],
    at: Annotated[str, typer.Option(help="when: 2026-12-03T09:30+03:00 (with its zone), or a date")],
    position: Annotated[str, typer.Option(help='where: "6.2N 33.6E", an MGRS reference, or "[lon, lat]"')],
    mechanism: Annotated[str, typer.Option(help="blast, stray_rounds, rotor_wash, movement_restriction, ...")],
    source: Annotated[str, typer.Option(help=f"who reported it: {', '.join(HARM_SOURCES)}")],
    confidence: Annotated[str, typer.Option(help=f"{', '.join(HARM_CONFIDENCE)}")],
    as_user: AsOption,
    element: Annotated[str, typer.Option(help="the plan's element, when known")] = "",
    until: Annotated[str, typer.Option(help="the end of the window when the time is known only to one")] = "",
    precision_m: Annotated[float, typer.Option(help="how far off the position may be, in metres")] = 100.0,
    deaths: Annotated[str, typer.Option(help="N or LOW-HIGH")] = "0",
    injuries: Annotated[str, typer.Option(help="N or LOW-HIGH")] = "0",
    damage: Annotated[str, typer.Option(help="homes, civilian objects, services damaged")] = "",
    displaced: Annotated[str, typer.Option(help="people displaced: N or LOW-HIGH")] = "0",
    detained: Annotated[str, typer.Option(help="people detained: N or LOW-HIGH")] = "0",
    movement_restriction: Annotated[str, typer.Option(help="movement restricted: who, where, how long")] = "",
    means: Annotated[str, typer.Option(help="the activity (effects table id); the element's by default")] = "",
    community: Annotated[str, typer.Option(help="the community harmed")] = "",
    attributed_to: Annotated[str, typer.Option(help="a partner force's unit, when not this force")] = "",
    description: Annotated[str, typer.Option(help="what happened, in words")] = "",
    witness: Annotated[str, typer.Option(help="who saw it (sensitive: withheld from uncleared outputs)")] = "",
    reporter: Annotated[str, typer.Option(help="who reported it (sensitive)")] = "",
    settings_path: SettingsOption = None,
) -> None:
    """Take in a report of civilian harm after an operation (anyone signed in); prints its id."""
    from planner.geo import CoordinateError, parse_position
    from planner.record.harm import HarmLog, HarmReport, parse_count
    from planner.settings import load_settings

    try:
        lon_lat = parse_position(position)
    except CoordinateError as exc:
        raise RecordError(f"--position: {exc}") from None
    report = HarmReport(
        coa=coa,
        at=at,
        until=until,
        position=lon_lat,
        position_precision_m=precision_m,
        mechanism=mechanism,
        origin=source,
        confidence=confidence,
        element=element,
        deaths=parse_count(deaths, "deaths"),
        injuries=parse_count(injuries, "injuries"),
        damage=damage,
        displaced=parse_count(displaced, "displaced"),
        detained=parse_count(detained, "detained"),
        movement_restriction=movement_restriction,
        means=means,
        community=community,
        attributed_to=attributed_to,
        description=description,
        witness=witness,
        reporter=reporter,
    )
    store, user = _signed_in(load_settings(settings_path), as_user)
    typer.echo(f"harm recorded as {HarmLog(store).add(user, assessment_id, report)}")


@harm_app.command("review")
@_user_errors
def harm_review(
    harm_id: Annotated[str, typer.Argument(metavar="HARM_ID")],
    *,
    step: Annotated[str, typer.Option(help=" | ".join(HARM_STEPS))],
    status: Annotated[
        str, typer.Option(help="; ".join(f"{step}: {', '.join(s)}" for step, s in HARM_STEP_STATUSES.items()))
    ],
    as_user: AsOption,
    note: Annotated[str, typer.Option(help="findings, or why")] = "",
    lessons: Annotated[str, typer.Option(help="what the next operation should learn (assessment)")] = "",
    lesson_rule: Annotated[str, typer.Option(help="the checklist rule or activity the lesson is about")] = "",
    mitigations: Annotated[str, typer.Option(help="mitigations recommended (assessment)")] = "",
    on: Annotated[str, typer.Option(help="the date of a response (offered, paid ...)")] = "",
    referred_to: Annotated[str, typer.Option(help="the service a referral went to")] = "",
    settings_path: SettingsOption = None,
) -> None:
    """Take the next step of a harm record: initial review (PoC adviser), assessment (PoC adviser, Human
    Rights officer), decision (commander), response (PoC adviser, Civil Affairs officer)."""
    from planner.record.harm import HarmLog, parse_moment
    from planner.settings import load_settings

    if on:
        on = parse_moment(on, "on")[0]
    details = {
        "lessons": lessons,
        "lesson_rule": lesson_rule,
        "mitigations": mitigations,
        "on": on,
        "referred_to": referred_to,
    }
    store, user = _signed_in(load_settings(settings_path), as_user)
    HarmLog(store).review(user, harm_id, step=step, status=status, note=note, details=details)
    typer.echo(f"{harm_id}: {step.replace('_', ' ')} {status} by {user.name}")


@harm_app.command("list")
@_user_errors
def harm_list(
    assessment_id: Annotated[str | None, typer.Argument(metavar="[ASSESSMENT_ID]")] = None,
    *,
    as_json: Annotated[bool, typer.Option("--json", help="print them as JSON")] = False,
    include_sensitive: Annotated[
        bool, typer.Option(help="add witness and reporter names (cleared roles only; needs --as)")
    ] = False,
    as_user: Annotated[str | None, typer.Option("--as", help="who you are (with --include-sensitive)")] = None,
    settings_path: SettingsOption = None,
) -> None:
    """Harm records (of one assessment when given), with their stage in the workflow."""
    from planner.record.harm import HarmLog
    from planner.redaction import policy
    from planner.settings import load_settings

    settings = load_settings(settings_path)
    if include_sensitive:
        store, user = _signed_in(settings, as_user)
        policy(user, settings.redaction, include_sensitive=True)
    else:
        store = _record(settings)
    found = HarmLog(store).records(assessment_id, sensitive=include_sensitive)
    if as_json:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    if not found:
        typer.echo("no harm recorded" + (f" after {assessment_id}" if assessment_id else ""))
    for harm in found:
        element = f"/{harm['element']}" if harm["element"] else ""
        lines = [
            f"{harm['id']}  {harm['at']}  {harm['assessment']} COA {harm['coa']}{element}  {harm['mechanism']}  "
            f"deaths {_count(harm['deaths'])}, injuries {_count(harm['injuries'])}  "
            f"[{harm['stage'].replace('_', ' ')}: {harm['status']}]" + ("  AMENDS OPEN" if harm["amends_open"] else "")
        ]
        lon, lat = harm["position"]
        lines.append(
            f"    at {lat:.5f}, {lon:.5f} (within {harm['position_precision_m']:g} m); {harm['origin']}, "
            f"{harm['confidence']} confidence"
        )
        lines += [f"    {name}: {harm[name]}" for name in ("witness", "reporter") if harm.get(name)]
        typer.echo("\n".join(lines))


@harm_app.command("export")
@_user_errors
def harm_export(
    assessment_id: Annotated[
        str | None, typer.Argument(metavar="[ASSESSMENT_ID]", help="only the harm after it")
    ] = None,
    *,
    fmt: Annotated[str, typer.Option("--format", help="gpkg, geojson or csv")],
    out: Annotated[Path, typer.Option("--out", help="the file (gpkg) or new folder (geojson, csv)")],
    lang: Annotated[str, typer.Option("--lang", help="language of the column descriptions (en, fr)")] = "en",
    coarsen_km: Annotated[
        float | None, typer.Option("--coarsen-km", help="move harm locations to the centres of N km cells")
    ] = None,
    include_sensitive: Annotated[
        bool, typer.Option("--include-sensitive", help="add witness and reporter names (cleared roles, with --as)")
    ] = False,
    as_user: Annotated[str | None, typer.Option("--as", help="who asks (needed for --include-sensitive)")] = None,
    settings_path: SettingsOption = None,
) -> None:
    """The harm records (of one assessment, or all) and the support register, for the harm tracking cell's
    GIS and spreadsheets, redacted."""
    from planner.export import export_register
    from planner.outputs import harm_register
    from planner.redaction import policy
    from planner.settings import load_settings

    settings = load_settings(settings_path)
    if include_sensitive and not as_user:
        raise RecordError("--include-sensitive needs --as USER: only a cleared role may take sensitive fields out")
    store, user = _signed_in(settings, as_user) if as_user else (_record(settings), None)
    redaction = policy(user, settings.redaction, include_sensitive=include_sensitive, coarsen_km=coarsen_km)
    found = harm_register(store, redaction, assessment_id=assessment_id, lang=lang)
    written = export_register(found, fmt, out)
    if user is not None and redaction.sensitive:
        for ident in sorted(set(found.records["assessment"])):
            store.note_release(
                user, ident, output=f"harm export {fmt}", fields=["harm_records.witness", "harm_records.reporter"]
            )
    typer.echo("\n".join(f"wrote {path}" for path in written))
    typer.echo("\n".join(f"  {line}" for line in found.heading[1:]))


@harm_app.command("observed")
@_user_errors
def harm_observed(
    assessment_id: Annotated[str, typer.Argument(metavar="ASSESSMENT_ID")],
    as_json: Annotated[bool, typer.Option("--json", help="print it as JSON")] = False,
    settings_path: SettingsOption = None,
) -> None:
    """The harm recorded after an assessment beside what its estimate and checklist said."""
    from planner.record.harm import HarmLog
    from planner.settings import load_settings

    found = HarmLog(_record(load_settings(settings_path))).observed(assessment_id)
    if as_json:
        typer.echo(json.dumps([o.to_dict() for o in found], indent=2, ensure_ascii=False))
        return
    if not found:
        typer.echo(f"no harm recorded after {assessment_id}")
    for seen in found:
        where = "outside every zone, nearest" if seen.zone == "outside" else f"in the {seen.zone} zone of"
        distance = f" ({seen.distance_m:.0f} m out)" if seen.zone == "outside" else ""
        predicted = (
            f"estimate there {seen.predicted[0]:.2g}-{seen.predicted[2]:.2g} (central {seen.predicted[1]:.2g})"
            if seen.predicted is not None
            else "no estimate for this mechanism there (unforeseen)"
        )
        typer.echo(
            f"{seen.harm}  COA {seen.coa}  {seen.mechanism}: {where} {seen.element}{distance}; "
            f"killed or injured {_count(list(seen.observed))}; {predicted}"
        )
        for item in seen.items:
            typer.echo(f"    {item.key:<10} {item.status:<17} {item.title}")


@harm_app.command("calibration")
@_user_errors
def harm_calibration(
    as_json: Annotated[bool, typer.Option("--json", help="print it as JSON")] = False,
    settings_path: SettingsOption = None,
) -> None:
    """Over every operation with harm recorded: where harm fell against the zones, and observed against
    predicted casualties, by mechanism."""
    from planner.record.harm import HarmLog
    from planner.settings import load_settings

    rows, left_out = HarmLog(_record(load_settings(settings_path))).calibration()
    if as_json:
        typer.echo(json.dumps({"rows": [r.to_dict() for r in rows], "left_out": left_out}, indent=2))
        return
    header = f"{'mechanism':<22} {'incidents':>9} {'core':>5} {'outer':>5} {'outside':>7} {'unforeseen':>10} "
    header += f"{'observed':>9} {'predicted (central)':>20}"
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.mechanism:<22} {row.incidents:>9} {row.core:>5} {row.outer:>5} {row.outside:>7} "
            f"{row.unforeseen:>10} {_count(list(row.observed)):>9} "
            f"{f'{row.predicted[0]:.2g}-{row.predicted[2]:.2g} ({row.predicted[1]:.2g})':>20}"
        )
    if not rows:
        lines.append("no harm recorded yet")
    if left_out:
        lines.append(f"left out (recorded before element positions were kept): {', '.join(left_out)}")
    typer.echo("\n".join(lines))


@support_app.command("add")
@_user_errors
def support_add(
    assessment_id: Annotated[str, typer.Argument(metavar="ASSESSMENT_ID", help="the plan's recorded assessment")],
    *,
    partner: Annotated[str, typer.Option(help="the partner force, as the plan's partner_forces name it")],
    kind: Annotated[str, typer.Option(help=", ".join(SUPPORT_KINDS))],
    start: Annotated[str, typer.Option("--from", help="the first day of the support (2026-12-03)")],
    end: Annotated[str, typer.Option("--to", help="its last day")],
    follow_up: Annotated[str, typer.Option(help="when the supported unit's conduct is first reviewed")],
    as_user: AsOption,
    unit: Annotated[str, typer.Option(help="the unit supported")] = "",
    conditions: Annotated[str, typer.Option(help="the conditions agreed")] = "",
    mitigations: Annotated[str, typer.Option(help="the mitigating measures agreed")] = "",
    settings_path: SettingsOption = None,
) -> None:
    """Register support a plan gives a partner force (planners, PoC advisers, Human Rights officers)."""
    from planner.record.support import SupportGiven, SupportRegister
    from planner.settings import load_settings

    given = SupportGiven(
        partner=partner,
        kind=kind,
        starts=start,
        ends=end,
        follow_up_due=follow_up,
        unit=unit,
        conditions=conditions,
        mitigations=mitigations,
    )
    store, user = _signed_in(load_settings(settings_path), as_user)
    typer.echo(f"support recorded as {SupportRegister(store).add(user, assessment_id, given)}")


@support_app.command("review")
@_user_errors
def support_review(
    support_id: Annotated[str, typer.Argument(metavar="SUPPORT_ID")],
    *,
    status: Annotated[str, typer.Option(help=", ".join(SUPPORT_REVIEW_STATUSES))],
    as_user: AsOption,
    note: Annotated[str, typer.Option(help="what was found, or how the findings were closed")] = "",
    next_due: Annotated[str, typer.Option("--next", help="when the next follow-up is due")] = "",
    settings_path: SettingsOption = None,
) -> None:
    """Record a follow-up review of a supported unit (Human Rights officers, PoC advisers)."""
    from planner.record.support import SupportRegister
    from planner.settings import load_settings

    store, user = _signed_in(load_settings(settings_path), as_user)
    SupportRegister(store).review(user, support_id, status=status, note=note, next_due=next_due)
    due = f"; next follow-up due {next_due}" if next_due else "; no further follow-up due"
    typer.echo(f"{support_id}: follow-up {status} by {user.name}{due}")


@support_app.command("list")
@_user_errors
def support_list(
    as_json: Annotated[bool, typer.Option("--json", help="print it as JSON")] = False,
    settings_path: SettingsOption = None,
) -> None:
    """The register of support to partner forces, with each follow-up due and the findings open."""
    from planner.record.support import SupportRegister
    from planner.settings import load_settings

    found = SupportRegister(_record(load_settings(settings_path))).entries()
    if as_json:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    if not found:
        typer.echo("no support registered")
    for entry in found:
        unit = f" ({entry['unit']})" if entry["unit"] else ""
        due = f"follow-up due {entry['due']}" if entry["due"] else "no follow-up due"
        typer.echo(
            f"{entry['id']}  {entry['kind']} to {entry['partner']}{unit}  {entry['starts']} to {entry['ends']}  "
            f"[{due}]  under {entry['assessment']}"
        )
        for finding in entry["open_findings"]:
            typer.echo(f"    OPEN FINDING: {finding}")


def _count(bounds: list[int]) -> str:
    low, high = bounds
    return str(low) if low == high else f"{low}-{high}"


@app.command()
@_user_errors
def status(
    assessment_id: Annotated[str, typer.Argument(metavar="ID")],
    as_json: Annotated[bool, typer.Option("--json", help="print it as JSON")] = False,
    settings_path: SettingsOption = None,
) -> None:
    """Items by status, and the sign-off with its validity now (input files re-hashed)."""
    from planner.settings import load_settings

    found = _record(load_settings(settings_path)).status(assessment_id)
    if as_json:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    lines = [f"{found['id']}: {found['plan']} (recorded by {found['recorded_by']}, {found['recorded_at']})"]
    lines.append("  " + ", ".join(f"{n} {s}" for s, n in found["counts"].items() if n))
    for item in found["items"]:
        last = item["history"][-1] if item["history"] else None
        by = f"  ({last['by']}, {last['at'][:16]}: {last['note']})" if last else ""
        shared = f" [COA {', '.join(item['coas'])}: one review]" if len(item["coas"]) > 1 else ""
        lines.append(f"  {item['key']:<10} {item['status']:<17} {item['title']}{shared}{by}")
    if not found["signoff_history"]:
        lines.append("not signed off")
    for n, signed in enumerate(found["signoff_history"], start=1):  # the last one is the decision in force
        state = "VALID" if signed["valid"] else "VOID: " + "; ".join(signed["void_because"])
        chosen = f" COA {signed['coa']}" if signed["coa"] else ""
        superseded = " (superseded)" if n < len(found["signoff_history"]) else ""
        lines.append(
            f"sign-off: {signed['decision']}{chosen} by {signed['by']} at {signed['at'][:16]}: {state}{superseded}"
        )
        if signed["conditions"]:
            lines.append(f"  conditions: {signed['conditions']}")
        if signed["note"]:
            lines.append(f"  why it replaces the earlier decision: {signed['note']}")
    typer.echo("\n".join(lines))


@app.command()
@_user_errors
def verify(settings_path: SettingsOption = None) -> None:
    """Recompute the audit chain and every sign-off; exit 1 on any break or any sign-off that is void now."""
    from planner.settings import load_settings

    found = _record(load_settings(settings_path)).verify()
    for signed in found.signoffs:
        state = "valid" if signed["valid"] else "VOID: " + "; ".join(signed["void_because"])
        typer.echo(
            f"sign-off {signed['signoff']} of {signed['assessment']} ({signed['decision']}, {signed['by']}): {state}"
        )
    void = [s for s in found.signoffs if not s["valid"]]
    if found.intact:
        typer.echo("audit chain intact; every record matches it")
    for problem in found.problems:
        typer.echo(f"BREAK: {problem}", err=True)
    if void:
        typer.echo(f"{len(void)} sign-off(s) VOID: their plan or data changed since they were signed", err=True)
    if not found.intact or void:
        raise typer.Exit(1)


@app.command()
@_user_errors
def backup(
    target: Annotated[Path, typer.Argument(metavar="FILE", help="the new backup file")],
    settings_path: SettingsOption = None,
) -> None:
    """A consistent copy of the record, taken while it is in use (a server's: its own pg_dump)."""
    from planner.record.store import backup as backup_store
    from planner.settings import load_settings

    store = _record(load_settings(settings_path))
    backup_store(store.engine, target)
    if store.seal.anchor is not None and store.seal.anchor.exists():  # the anchor travels with the copy
        shutil.copyfile(store.seal.anchor, target.with_name(target.name + ".anchor"))
    typer.echo(f"backed up to {target}")
    if store.engine.url.get_backend_name() == "postgresql":
        typer.echo(f"a pg_dump archive: restore it with pg_restore --no-owner --dbname=URL {target} (see the README)")


def _released(
    settings: Settings,
    assessment_id: str,
    *,
    as_user: str | None,
    include_sensitive: bool,
    coarsen_km: float | None,
    lang: str,
) -> tuple[Record, User | None, Any, Any, Any]:
    """The recorded assessment rebuilt and redacted for one output; sensitive fields need a cleared user."""
    from planner.outputs import from_record

    if include_sensitive and not as_user:
        raise RecordError("--include-sensitive needs --as USER: only a cleared role may take sensitive fields out")
    store, user = _signed_in(settings, as_user) if as_user else (_record(settings), None)
    assessment, bundled, redaction = from_record(
        store,
        assessment_id,
        settings.redaction,
        user=user,
        include_sensitive=include_sensitive,
        coarsen_km=coarsen_km,
        lang=lang,
    )
    return store, user, assessment, bundled, redaction


IncludeSensitive = Annotated[
    bool, typer.Option("--include-sensitive", help="include fields marked sensitive (cleared roles, with --as)")
]
CoarsenKm = Annotated[
    float | None, typer.Option("--coarsen-km", help="move threat-report locations to the centres of N km cells")
]


@app.command("brief")
@_user_errors
def brief_command(
    assessment_id: Annotated[str, typer.Argument(metavar="ID")],
    *,
    fmt: Annotated[str, typer.Option("--format", help="pdf or html")],
    out: Annotated[Path, typer.Option("--out", help="the file to write")],
    lang: Annotated[str, typer.Option("--lang", help="en or fr")] = "en",
    coarsen_km: CoarsenKm = None,
    include_sensitive: IncludeSensitive = False,
    as_user: Annotated[str | None, typer.Option("--as", help="who asks (needed for --include-sensitive)")] = None,
    settings_path: SettingsOption = None,
) -> None:
    """The commander's brief of a recorded assessment: one page, then annexes (HTML or PDF, nothing fetched)."""
    with _loading():
        from planner.brief import brief as make_brief
        from planner.settings import load_settings

    if fmt not in BRIEF_FORMATS:
        raise InputError.single("--format", "", f"unknown brief format '{fmt}'", "use pdf or html")
    settings = load_settings(settings_path)
    store, user, assessment, bundled, redaction = _released(
        settings, assessment_id, as_user=as_user, include_sensitive=include_sensitive, coarsen_km=coarsen_km, lang=lang
    )
    data = make_brief(assessment, bundled, fmt)
    _write_atomically(out, data)
    if user is not None and redaction.sensitive:
        store.note_release(user, assessment_id, output=f"brief {fmt}", fields=bundled.sensitive_fields)
    typer.echo(f"wrote {out}")
    typer.echo("\n".join(f"  {line}" for line in bundled.statement))


@app.command("export")
@_user_errors
def export_command(
    assessment_id: Annotated[str, typer.Argument(metavar="ID")],
    *,
    fmt: Annotated[str, typer.Option("--format", help=", ".join(EXPORT_FORMATS))],
    out: Annotated[Path, typer.Option("--out", help="the file (gpkg, geotiff, kml) or new folder (geojson, csv)")],
    lang: Annotated[str, typer.Option("--lang", help="language of the checklist texts (en, fr)")] = "en",
    coarsen_km: CoarsenKm = None,
    include_sensitive: IncludeSensitive = False,
    as_user: Annotated[str | None, typer.Option("--as", help="who asks (needed for --include-sensitive)")] = None,
    settings_path: SettingsOption = None,
) -> None:
    """Layers and tables of a recorded assessment for QGIS, Google Earth and spreadsheets, redacted."""
    with _loading():
        from planner.export import export
        from planner.settings import load_settings

    if fmt not in EXPORT_FORMATS:
        raise InputError.single("--format", "", f"unknown format '{fmt}'", f"use one of {', '.join(EXPORT_FORMATS)}")
    settings = load_settings(settings_path)
    store, user, _, bundled, redaction = _released(
        settings, assessment_id, as_user=as_user, include_sensitive=include_sensitive, coarsen_km=coarsen_km, lang=lang
    )
    written = export(bundled, fmt, out)
    if user is not None and redaction.sensitive:
        store.note_release(user, assessment_id, output=f"export {fmt}", fields=bundled.sensitive_fields)
    typer.echo("\n".join(f"wrote {path}" for path in written))
    typer.echo("\n".join(f"  {line}" for line in bundled.statement))


@app.command()
@_user_errors
def sweep(
    plan_path: Annotated[Path, typer.Argument(metavar="PLAN", help="an operation plan (scenarios/*.yaml)")],
    *,
    coa: Annotated[str, typer.Option("--coa", help="the COA whose element moves")],
    element: Annotated[str, typer.Option("--element", help="the element to move (a cordon or route moves whole)")],
    within: Annotated[float, typer.Option("--within", help="how far it may move, in metres")],
    step: Annotated[float, typer.Option("--step", help="the grid of candidate positions, in metres")] = 100.0,
    top: Annotated[int, typer.Option("--top", min=1, help="how many of the best positions to list")] = 10,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="write the result as JSON to this file ('-' for standard output)")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="a Dask scheduler's address (default: a cluster on this machine)")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=0, help="worker processes of the local cluster (0: this process)")
    ] = None,
    settings_path: Annotated[Path | None, typer.Option("--settings", help="a mission settings file (TOML)")] = None,
    lang: Annotated[str, typer.Option("--lang", help="language of the figures' explanations (en, fr)")] = "en",
) -> None:
    """Where else could an element go? Assess it at every position within --within, best first (P16 names it)."""
    with _loading():
        from planner.assess import assess as run_assessment
        from planner.catalogue import load_catalogue
        from planner.checklist import render
        from planner.plan import open_plan
        from planner.scale.cluster import Cluster, dashboard_link, dask_client
        from planner.scale.sweep import sweep as run_sweep
        from planner.settings import load_settings

    settings = load_settings(settings_path)
    catalogue = load_catalogue(settings.checklist.catalogue)
    catalogue.language(lang)
    with dask_client(Cluster(scheduler, workers)) as client, _bar("candidates") as progress:
        if (link := dashboard_link(client)) is not None:
            typer.echo(f"Dask dashboard: {link}", err=True)
        found = run_sweep(
            plan_path,
            coa,
            element,
            within_m=within,
            step_m=step,
            settings=settings,
            lang=lang,
            client=client,
            progress=progress,
        )
    result = found.to_dict(top)
    if found.better is not None:  # the plan's own checklist, with P16 naming the better position
        plan, layerset = open_plan(plan_path, settings.limits, settings=settings)
        assessment = run_assessment(plan, layerset, settings, catalogue=catalogue, better=[found.better])
        checklist = render(next(r.checklist for r in assessment.coas if r.coa.id == coa), catalogue, lang, coa)
        result["p16"] = next((item for item in checklist["items"] if item["id"] == "P16"), None)
    _show(result, json_out, render_sweep)


@app.command()
@_user_errors
def surface(
    manifest: Annotated[Path, typer.Argument(metavar="LAYERSET", help="a layer set (layers/*.yaml)")],
    *,
    out: Annotated[Path, typer.Option("--out", help="the GeoTIFF (COG) to write")],
    cell: Annotated[float, typer.Option("--cell", min=1, help="the grid's cell size, in metres")] = 100.0,
    on: Annotated[str | None, typer.Option("--on", help="the date recent threats are counted back from")] = None,
    season: Annotated[str, typer.Option("--season", help="dry or rainy (rainy closes dry-season roads)")] = "dry",
    chunk: Annotated[
        int, typer.Option("--chunk", min=16, max=8192, help="cells a side per chunk (memory per worker)")
    ] = 1024,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="a Dask scheduler's address (default: a cluster on this machine)")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=0, help="worker processes of the local cluster (0: this process)")
    ] = None,
    settings_path: Annotated[Path | None, typer.Option("--settings", help="a mission settings file (TOML)")] = None,
) -> None:
    """A whole-country surface: people, minutes to care, recent threat, people near recent attacks (one COG)."""
    with _loading():
        from planner.layers.manifest import load_layerset
        from planner.scale.cluster import Cluster, dashboard_link, dask_client
        from planner.scale.country import country_surface, read_band_names
        from planner.settings import load_settings

    if season not in ("dry", "rainy"):
        raise InputError.single("--season", season, "unknown season", "use dry or rainy")
    if not out.parent.is_dir():
        raise InputError.single(out, "", "its folder does not exist", "create the folder or name another path")
    settings = load_settings(settings_path)
    when = _date(on) if on else date.today()
    layerset = load_layerset(manifest, _progress, limits=settings.limits)
    with dask_client(Cluster(scheduler, workers)) as client, _bar("chunks") as progress:
        if (link := dashboard_link(client)) is not None:
            typer.echo(f"Dask dashboard: {link}", err=True)
        made = country_surface(
            layerset,
            out,
            cell_m=cell,
            on=when,
            settings=settings,
            season=season,
            client=client,
            progress=progress,
            chunk_cells=chunk,
        )
    rows, cols = made.grid.shape
    typer.echo(
        f"{layerset.area}{' (FICTIONAL)' if layerset.fictional else ''}: {rows:,} x {cols:,} cells of "
        f"{cell:g} m ({made.grid.crs_text}), {made.chunks} chunk(s), threats counted back from {when.isoformat()}"
    )
    near = made.totals["people_near_attacks"]
    near_text = "unknown (no threat reports)" if math.isnan(near) else f"{near:,.0f}"
    typer.echo(f"  people: {made.totals['people']:,.0f}; within reach of recent attacks on civilians: {near_text}")
    for flag in made.flags:
        typer.echo(f"  ! {flag}")
    typer.echo(f"Written: {out}")
    for name, meaning in read_band_names(out)["bands"].items():
        typer.echo(f"  {name}: {meaning}")


@contextmanager
def _bar(what: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on the terminal for long work (nothing when the output goes to a file or a script)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn(f"{what}:"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task(what, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def render_sweep(result: dict[str, Any]) -> str:
    """A sweep's result for people: the planned position, the best candidates, what was set aside."""
    planned = result["planned"]
    head = (
        f"Sweep of {result['element']} (COA {result['coa']}): {result['considered']} positions within "
        f"{result['within_m']:g} m on a {result['step_m']:g} m grid, {result['assessed']} assessed"
    )
    lines = [
        head,
        f"  planned at {planned['mgrs']}: risk {_sweep_figures(planned['risk'])};"
        f" {result['element']} itself {planned['element_casualties'] or 0:.2f}"
        + (f"; fails: {', '.join(planned['refused'])}" if planned["refused"] else ""),
    ]
    for key, refused in result["refused"].items():
        lines.append(f"  set aside: {refused['count']} ({key}: {refused['why']})")
    if not result["candidates"]:
        lines.append("  no position meets the element's constraints")
    else:
        lines.append("Best positions (least expected harm, then the shortest move):")
        for rank, c in enumerate(result["candidates"], start=1):
            fewer = c.get("improvement", {}).get("casualties_central", 0.0)
            lines.append(
                f"  {rank:>2}. {c['mgrs']}  moved {c['moved_m']:,.0f} m  risk {_sweep_figures(c['risk'])};"
                f" {result['element']} itself {c['element_casualties']:.2f}; {fewer:.2f} fewer than planned"
            )
    p16 = result.get("p16")
    if p16:
        lines += ["", f"[{p16['severity'].upper()}] {p16['id']} {p16['title']}"]
        lines += [f"    - {e['text']}" for e in p16["evidence"]]
    elif result["candidates"]:
        lines += ["", "The planned position does as little harm as any candidate: P16 is not raised by this sweep."]
    return "\n".join(lines)


def _sweep_figures(risk: dict[str, Any] | None) -> str:
    if risk is None:
        return "not assessed"
    c = risk["casualties"]
    return (
        f"{risk['score']:g} ({risk['level']}), expected casualties {c['central']:.2f} ({c['low']:.2f}-{c['high']:.2f})"
    )


@app.command()
@_user_errors
def dashboard(
    port: Annotated[int, typer.Option(help="the port on this machine")] = 8501,
    address: Annotated[str, typer.Option(help="the address to listen on (127.0.0.1: this machine only)")] = "127.0.0.1",
) -> None:
    """Open the dashboard in the browser (Streamlit), on the sample plan; nothing is fetched from the internet."""
    project = Path(__file__).resolve().parents[1]
    if not (project / "app.py").is_file():
        raise InputError.single(
            project / "app.py", "", "the dashboard is not beside this installation", "run it from a checkout"
        )
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", address, "--browser.gatherUsageStats", "false"]
    raise typer.Exit(subprocess.run(command, cwd=project, check=False).returncode)  # cwd: .streamlit/config.toml


def main() -> None:
    app_for(sys.argv[1:])(prog_name="primum")


def app_for(args: list[str]) -> typer.Typer:
    """The command line with only the command ``args`` name, when they name one of the top level: typer builds
    every command's options before running any, a fiftieth of a second of each run spent on commands not asked
    for. Anything else (no command, ``--help``, a group such as ``users``, a typo) gets the whole command line."""
    named = [c for c in app.registered_commands if args and _name_of(c) == args[0]]
    if not named:
        return app
    one = _command_line()
    one.registered_commands = named
    one.callback()(_no_options)  # still a group of commands, so `primum NAME ...` reads as before
    return one


def _name_of(command: typer.models.CommandInfo) -> str:
    assert command.callback is not None
    return command.name or typer.main.get_command_name(command.callback.__name__)  # as typer names it


def _no_options() -> None:
    return None  # the group takes no options of its own; its help is the command line's


if __name__ == "__main__":
    main()
