"""What the dashboard keeps: per session (user, language, plan, recorded assessment) in ``st.session_state``;
per process only caches keyed by what they depend on (file paths and modification times), never a setting.

Layer sets and assessments are ``st.cache_resource`` entries: they hold GeoDataFrames and road graphs that
cannot be pickled or hashed (``st.cache_data`` would try), and they are read-only once built, so sessions
share them safely.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydeck as pdk
import streamlit as st
import yaml

from planner._yamlfile import FastLoader
from planner.assess import Assessment, assess
from planner.brief import brief_html
from planner.dashboard.deck import build_deck, style_url
from planner.layers.manifest import LayerSet, load_layerset
from planner.outputs import Bundle, bundle
from planner.past_harm import HarmHistory
from planner.plan import check_plan_in_layers, load_plan
from planner.record import Record, User
from planner.record.harm import HarmLog
from planner.record.location import store_url
from planner.redaction import Redaction
from planner.settings import Settings, load_settings
from planner.uploads import check_confined
from planner.words import words

PROJECT = Path(__file__).resolve().parents[2]
SAMPLE_PLAN = PROJECT / "scenarios" / "sample.yaml"


def _mtime(path: Path) -> int:
    return path.stat().st_mtime_ns if path.exists() else 0


@st.cache_resource(show_spinner=False)
def _settings(path: str | None, mtime: int) -> Settings:
    return load_settings(path)


def settings() -> Settings:
    """The mission settings named by ``PRIMUM_SETTINGS``, or the defaults."""
    path = os.environ.get("PRIMUM_SETTINGS")
    return _settings(path, _mtime(Path(path)) if path else 0)


def basemap_style() -> str:
    """The map style of the mission's offline basemap, served on 127.0.0.1; empty without one."""
    configured = settings().dashboard.basemap
    if not configured:
        return ""
    from planner.basemap import map_style, open_basemap, serve  # noqa: PLC0415  (only a mission with one)

    path = Path(configured)
    return style_url(map_style(open_basemap(path), serve(path)))


def data_dirs() -> list[Path]:
    found = settings().dashboard.data_dirs
    if found:
        return [Path(d) for d in found]
    return [PROJECT / "scenarios", PROJECT / "layers", PROJECT / "data"]


@st.cache_resource(show_spinner=False)
def _record(url: str) -> Record:
    return Record.open(url)


def record() -> Record:
    current = settings()
    return _record(store_url(current.record.db, current.record.data_dir))


def lang() -> str:
    return str(st.session_state.get("lang", "en"))


def t(word: str, /, **values: Any) -> str:
    """An interface word in the session's language."""
    text = words(lang())[word]
    return str(text).format(**values) if values else str(text)


def progress_bar(word: str) -> Callable[[int, int], None]:
    """A progress bar for long work, and the ``progress(done, total)`` callback that moves it; ``word`` says
    what is counted, with ``{done}`` and ``{total}``."""
    bar = st.progress(0.0, text=t(word, done=0, total="…"))

    def progress(done: int, total: int) -> None:
        bar.progress(done / total if total else 1.0, text=t(word, done=done, total=total))

    return progress


def user() -> User | None:
    found = st.session_state.get("user")
    return found if isinstance(found, User) else None


@functools.cache
def _sessions_folder() -> Path:
    """The folder of this server's sessions, removed when the server stops: uploads (threat reports, notes
    naming sources) must not stay on the machine after the sessions that brought them."""
    folder = Path(tempfile.mkdtemp(prefix="primum-sessions-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def workdir() -> Path:
    """This session's folder for uploads and edited plans."""
    if "workdir" not in st.session_state:
        st.session_state["workdir"] = tempfile.mkdtemp(prefix="session-", dir=_sessions_folder())
    return Path(st.session_state["workdir"])


def allowed_dirs() -> list[Path]:
    return [*data_dirs(), workdir()]


def plans() -> list[Path]:
    """The plans (YAML files with ``coas``) in the data folders. A file that cannot be read as YAML is not one:
    the folders are the mission's, and hold other files."""
    found = []
    for folder in data_dirs():
        for path in sorted(folder.glob("*.yaml")):
            try:
                version = path.stat()
            except OSError:
                continue
            resolved = path.resolve()
            if _is_plan(resolved, version.st_size, version.st_mtime_ns):
                found.append(resolved)
    return found


def holds_coas(data: Any) -> bool:
    """Whether parsed YAML is a plan: a mapping with ``coas``."""
    return isinstance(data, dict) and "coas" in data


@functools.lru_cache(maxsize=1024)
def _is_plan(path: Path, size: int, modified_ns: int) -> bool:
    """Whether a YAML file holds ``coas``, read once per version of the file: every page that needs the
    session's plan asks, and a mission's data folders hold many large files (layer manifests, real plans)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=FastLoader)  # a safe loader (libyaml's where present)
    except (OSError, UnicodeDecodeError, RecursionError, yaml.YAMLError):
        return False
    return holds_coas(data)


def plan_path() -> Path:
    """The session's plan: the one opened, else the bundled sample when the data folders hold it, else the first."""
    if "plan_path" in st.session_state:
        return Path(st.session_state["plan_path"])
    found = plans()
    samples = [p for p in found if p.name == SAMPLE_PLAN.name]
    return (samples or found or [SAMPLE_PLAN])[0]


def _layerset_key(path: Path) -> tuple[tuple[str, int], ...]:
    """The manifest and every file it names, with their modification times: the cache key of a layer set."""
    files = [path]
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=FastLoader) or {}
        files += [(path.parent / spec["path"]).resolve() for spec in (data.get("layers") or {}).values()]
    except (OSError, UnicodeDecodeError, RecursionError, yaml.YAMLError, AttributeError, TypeError, KeyError):
        pass  # load_layerset reports what is wrong, naming the file
    return tuple((str(f), _mtime(f)) for f in files)


@st.cache_resource(show_spinner=False, max_entries=8)
def _layerset(path: str, key: tuple[tuple[str, int], ...], settings_sha: str) -> LayerSet:
    return load_layerset(path, limits=settings().limits)


def layerset(path: Path) -> LayerSet:
    return _layerset(str(path), _layerset_key(path), settings().sha256)


@st.cache_resource(show_spinner=False, max_entries=16)
def _assessment(
    path: str,
    plan_digest: str,
    layers_key: tuple[tuple[str, int], ...],
    settings_sha: str,
    history_sha: str,
    _history: HarmHistory,
) -> Assessment:
    plan = load_plan(path, limits=settings().limits)
    layers = _layerset(str(plan.layers_path), layers_key, settings_sha)
    check_plan_in_layers(plan, layers)
    return assess(plan, layers, settings(), history=_history)


def current_assessment(path: Path | None = None) -> Assessment:
    """The assessment of the session's plan: re-used until the plan, a layer, the settings or the record's harm
    records change.

    Raises ``InputError`` for a plan or layer set that is wrong, or that reaches outside the allowed folders.
    """
    path = Path(path or plan_path())
    check_confined(path, allowed_dirs())
    plan = load_plan(path, limits=settings().limits)
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in plan.files)).hexdigest()
    # This force's past harm from the record: a harm record taken in or reviewed is a new assessment
    history = HarmLog(record()).history()
    history_sha = hashlib.sha256(json.dumps(history.to_dict(), sort_keys=True).encode()).hexdigest()
    return _assessment(str(path), digest, _layerset_key(plan.layers_path), settings().sha256, history_sha, history)


@st.cache_resource(show_spinner=False, max_entries=8)
def _recorded(assessment_id: str, _store: Record) -> Assessment:
    return _store.reassess(assessment_id)


def recorded_assessment(assessment_id: str) -> Assessment:
    """A recorded assessment rebuilt once per process (it is checked against its inputs when rebuilt)."""
    return _recorded(assessment_id, record())


@st.cache_resource(show_spinner=False, max_entries=64)
def _map(
    _assessment: Assessment,
    _redaction: Redaction,
    key: tuple[Any, ...],
) -> tuple[Assessment, pdk.Deck, str]:
    _, coa, heatmap, language, label, _who, _basemap = key
    found = bundle(_assessment, _redaction, lang=language)
    deck = build_deck(
        _assessment, found, coa, heatmap=heatmap, fictional_label=label, lang=language, style_url=basemap_style()
    )
    return _assessment, deck, " ".join(found.statement)


def map_of(
    assessment: Assessment, coa: str, redaction: Redaction, *, heatmap: bool, label: str
) -> tuple[pdk.Deck, str]:
    """The map of one COA and its data statement, built once per assessment, COA, layer choice, language and
    redaction (who may see what is part of the key, so one role's map never reaches another's screen): a
    widget change that comes back to a view already seen costs nothing."""
    who = (redaction.sensitive, redaction.coarsen_m, redaction.asked_by.name if redaction.asked_by else None)
    key = (id(assessment), coa, heatmap, lang(), label, who, settings().dashboard.basemap)
    kept, deck, statement = _map(assessment, redaction, key)
    if kept is not assessment:  # another assessment now lives at the same address: build afresh
        _map.clear()
        kept, deck, statement = _map(assessment, redaction, key)
    return deck, statement


@st.cache_data(show_spinner=False, max_entries=32)
def _brief_page(assessment_id: str, key: str, _assessment: Assessment, _found: Bundle) -> str:
    return brief_html(_assessment, _found)


def brief_page(assessment_id: str, assessment: Assessment, found: Bundle) -> str:
    """The brief shown on the sign-off page, made once per assessment, language, redaction, review state and
    the harm and support recorded after it: any change to them changes the key, so the brief on screen is never
    older than the record."""
    harm = found.layers["harm_records"].drop(columns="geometry").to_dict("records")
    key = json.dumps(
        [found.lang, found.statement, found.review, harm, found.support.to_dict("records")], sort_keys=True, default=str
    )
    return _brief_page(assessment_id, key, assessment, found)
