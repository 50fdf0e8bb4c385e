"""One frozen settings object: weights, thresholds and distances of the assessment, loadable from TOML.

Doctrine gives principles, not numbers: every number the assessment uses lives here, with its meaning, so a
mission can set its own (``primum assess --settings mission.toml``) and every result records the hash of
the settings it used. There is no module-level mutable state.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.errors import InputError, Problem


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)  # 2_000 is stored as 2000.0


class ThreatSettings(_Frozen):
    distance_m: float = Field(2_000, gt=0, description="reports this close to the footprint's outer zone count")
    window_days: int = Field(180, gt=0, description="reports this many days before the operation count")
    half_life_days: float = Field(30, gt=0, description="a report's weight halves every this many days")
    precise_m: float = Field(
        2_000,
        gt=0,
        description="reports located within this radius weigh fully; less precise ones weigh precise_m / precision",
    )
    kind_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "attack_on_civilians": 3.0,
            "sexual_violence": 3.0,
            "explosion": 2.0,
            "armed_clash": 1.5,
            "unrest": 0.5,
            "strategic": 0.5,
            "other": 0.5,
        },
        description="attacks on civilians and one-sided violence weigh most",
    )
    bandwidth_m: float = Field(1_000, gt=0, description="kernel bandwidth of the threat density surface")


class RiskSettings(_Frozen):
    # The score is derived from the harm estimate: H casualty-equivalents (expected casualties plus the other
    # harms at their weights, see [harm]) give score = 100 * H / (H + scale), so H = scale scores 50.
    scale: float = Field(2.0, gt=0, description="casualty-equivalents that score 50 ('high' starts there)")
    site_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "health": 500.0,
            "education": 300.0,
            "humanitarian": 300.0,
            "market": 300.0,
            "worship": 200.0,
            "water": 200.0,
            "bridge": 200.0,
            "power": 100.0,
            "government": 50.0,
            "other": 10.0,
            "displacement": 0.0,
        },
        description="relative importance of a site in the risk surface's site band (display only)",
    )
    levels: dict[str, float] = Field(
        default_factory=lambda: {"medium": 25.0, "high": 50.0, "extreme": 75.0},
        description="lowest score of each level above 'low'",
    )
    too_close_points: float = Field(5.0, ge=0, description="COAs closer than this in score are too close to call")


def _hours_profile() -> list[float]:
    # Share of residents at home by local hour: all at night, fewer by day (markets, schools, fields, work).
    return [1.0] * 6 + [0.85] * 2 + [0.6] * 9 + [0.85] * 3 + [1.0] * 4


class HarmSettings(_Frozen):
    """People present at the time, what a harm other than a casualty weighs, and how data quality widens a range."""

    home_share_by_hour: list[float] = Field(
        default_factory=_hours_profile,
        min_length=24,
        max_length=24,
        description="share of a residential raster's people at home for each local hour 0-23 (night rasters)",
    )
    occupancy: dict[str, float] = Field(
        default_factory=lambda: {
            "market": 400.0,
            "education": 300.0,
            "worship": 200.0,
            "health": 60.0,
            "humanitarian": 40.0,
            "water": 30.0,
            "government": 30.0,
        },
        description="people present at a site of a category while it is open, when the layer gives no occupancy",
    )
    default_hours: dict[str, str] = Field(
        default_factory=lambda: {
            "market": "Mo-Sa 07:00-17:00",
            "education": "Mo-Fr 07:30-15:00",
            "worship": "Fr 11:30-14:00; Su 08:00-12:00",
            "health": "24/7",
            "humanitarian": "Mo-Fr 08:00-17:00",
            "water": "06:00-19:00",
            "government": "Mo-Fr 08:00-16:00",
        },
        description="typical opening hours (OSM syntax) of a category, for sites whose layer gives none: they set "
        "the central figure, and the range runs from nobody present to a full site",
    )
    site_damage: dict[str, float] = Field(
        default_factory=lambda: {
            "health": 10.0,
            "water": 5.0,
            "education": 4.0,
            "humanitarian": 4.0,
            "market": 3.0,
            "worship": 3.0,
            "bridge": 3.0,
            "power": 2.0,
            "government": 1.0,
            "other": 0.2,
        },
        description="casualty-equivalents of one site damaged by explosive means: the services people lose",
    )
    confined_person_hour: float = Field(
        0.00005, ge=0, description="casualty-equivalents of one person held in a cordon for one hour"
    )
    losing_care_hour: float = Field(
        0.00002,
        ge=0,
        description="casualty-equivalents of one person without health care within the reach limit for one hour",
    )
    shelter_lost: float = Field(0.05, ge=0, description="casualty-equivalents of one shelter or home damaged")
    reprisal: float = Field(
        0.0005,
        ge=0,
        description="casualty-equivalents of one person engaged by the force at a full threat of reprisal",
    )
    threat_half_m: float = Field(
        1_000.0, gt=0, description="a report's weight near an element halves every this many metres from it"
    )
    threat_full: float = Field(
        5.0, gt=0, description="weighted reports near an element at which its threat is two-thirds of full"
    )
    unknown_threat: float = Field(
        0.5, ge=0, le=1, description="threat assumed for the central figure where no threat layer covers the area"
    )
    town_precision_m: float = Field(
        2_000.0, gt=0, description="radius over which people on a town-centroid or shared point may be"
    )
    coarse_spread: float = Field(
        0.5, ge=0, le=1, description="people from a coarse raster: range from (1 - this) to (1 + this) times"
    )
    stale_spread: float = Field(
        0.3, ge=0, le=1, description="people from a stale layer: range from (1 - this) to (1 + this) times"
    )


class AccessSettings(_Frozen):
    """Travel on the road network: speeds, snapping, and the limits health reach is judged against."""

    speeds_kmh: dict[str, float] = Field(
        default_factory=lambda: {
            "motorway": 80.0,
            "trunk": 70.0,
            "primary": 60.0,
            "secondary": 50.0,
            "tertiary": 40.0,
            "unclassified": 30.0,
            "residential": 25.0,
            "local/urban": 25.0,
            "service": 15.0,
            "track": 15.0,
            "path": 5.0,
            "footway": 5.0,
        },
        description="driving speed by road class (OSM highway values and Logistics Cluster classes, lower case); "
        "a class not listed travels at the slowest speed here",
    )
    surface_factors: dict[str, float] = Field(
        default_factory=lambda: {
            "asphalt": 1.0,
            "asphault": 1.0,
            "paved": 1.0,
            "concrete": 1.0,
            "gravel": 0.8,
            "dirt/sand": 0.6,
            "dirt": 0.6,
            "earth": 0.6,
            "sand": 0.6,
            "ground": 0.6,
            "unpaved": 0.6,
        },
        description="speed multiplier by surface (lower case); an unknown surface keeps the class speed",
    )
    condition_factors: dict[str, float] = Field(
        default_factory=lambda: {"smooth": 1.0, "good": 1.0, "rough": 0.7, "bad": 0.5, "poor": 0.5},
        description="speed multiplier by condition (lower case)",
    )
    rainy_closed: list[str] = Field(
        default_factory=lambda: ["dry season only", "impassable", "not passable", "closed"],
        description="rainy-season passability values (lower case) that close a road in the rainy season",
    )
    rainy_earth_factor: float = Field(
        0.5, gt=0, le=1, description="speed multiplier in the rainy season on roads whose surface is earth-like"
    )
    earth_surfaces: list[str] = Field(
        default_factory=lambda: ["dirt/sand", "dirt", "earth", "sand", "ground", "unpaved", "mud"],
    )
    snap_m: float = Field(
        10.0,
        ge=0,
        description="line ends and vertices this close become one junction, and a line ending this close to "
        "another road meets it there",
    )
    margin_m: float = Field(5_000.0, ge=0, description="the network is built over the study area plus this margin")
    offroad_kmh: float = Field(4.0, gt=0, description="walking speed from a place to its nearest passable road")
    max_snap_m: float = Field(
        2_000.0,
        gt=0,
        description="a place farther than this from any passable road of the network is 'not on the network', "
        "not reachable",
    )
    reach_limit_min: float = Field(60.0, gt=0, description="health reach beyond this is flagged (10-1-2: 1 hour)")
    alternatives: int = Field(3, ge=1, le=10, description="alternative routes offered for each route element")
    route_people_scale: float = Field(
        1_000.0, gt=0, description="people along a road that double its cost when alternatives are ranked"
    )


class ChecklistSettings(_Frozen):
    """Thresholds the precaution checklist's rules name (``above: populated_area_km2``), and its catalogue."""

    catalogue: str | None = Field(
        None, description="folder of the mission's rule files (en.yaml, fr.yaml ...), relative to this file"
    )
    populated_area_km2: float = Field(
        500.0, ge=0, description="people per km² in an element's zones above which it is a populated area"
    )
    homes_in_core_people: float = Field(1.0, ge=0, description="people in the core zones that mean homes there")
    commander_core_people: float = Field(
        50.0, ge=0, description="intensity-weighted people in the core above which the commander decides"
    )
    warning_people: float = Field(1.0, ge=0, description="people in the zones that call for an advance warning")
    near_people: float = Field(
        100.0, ge=0, description="people in a military position's zones that make it 'close to homes'"
    )
    rotor_wash_people: float = Field(
        25.0,
        ge=0,
        description="people living in a landing zone's rotor-wash zone (about five households) that "
        "make its homes at risk",
    )
    route_people: float = Field(100.0, ge=0, description="people along a movement route that make it populated")
    cordon_hours: float = Field(
        4.0, ge=0, description="a cordon holding people this long needs water, food and medical access inside it"
    )
    reprisal_window_days: int = Field(90, gt=0, description="attacks on civilians this recent raise reprisal risk")
    engagement_window_days: int = Field(
        180, gt=0, description="community reports this recent show a community engaging with the mission"
    )


class LimitsSettings(_Frozen):
    """Bounds that keep a mistaken input from taking the machine; a mission with larger machines may raise them."""

    max_elements: int = Field(500, gt=0, description="elements in one plan, every COA together")
    max_radius_m: float = Field(50_000.0, gt=0, description="the largest core or outer radius an element may set")
    min_pixel_m: float = Field(
        1.0, gt=0, description="population rasters with finer pixels are refused (a wrong CRS or unit)"
    )
    max_window_pixels: int = Field(
        100_000_000, gt=0, description="the most population pixels read at once (8 bytes each in memory)"
    )
    max_cell_chars: int = Field(100_000, gt=0, description="the longest text a layer's cell may hold")


class RecordSettings(_Frozen):
    """Where the record of assessments, reviews and sign-offs is kept (``PRIMUM_DB`` overrides both)."""

    db: str | None = Field(None, description="a SQLAlchemy URL (postgresql://...) or a SQLite file path")
    data_dir: str | None = Field(None, description="folder of the default SQLite file; default ~/.local/share/primum")
    audit_key: str | None = Field(
        None, description="file of the keys that seal the audit chain (default: beside a SQLite record, `.key`)"
    )
    audit_anchor: str | None = Field(
        None, description="append-only file the chain's hashes are copied to (default: beside it, `.anchor`)"
    )


class RedactionSettings(_Frozen):
    """Who may see fields a layer set marks sensitive, and how coarse shared threat locations are by default."""

    cleared_roles: list[str] = Field(
        default_factory=lambda: ["poc_adviser"],
        description="roles cleared to ask for sensitive fields (report sources, notes) in a screen or an output",
    )
    coarsen_km: float = Field(
        5.0, gt=0, description="grid size for threat-report locations in outputs shared outside the mission"
    )


class DashboardSettings(_Frozen):
    """What the dashboard may read: uploads plus these folders (relative to the settings file), and how much."""

    data_dirs: list[str] = Field(
        default_factory=list,
        description="folders whose plans and layer sets the dashboard may open (default: the project's "
        "scenarios/, layers/ and data/)",
    )
    max_upload_mb: float = Field(200.0, gt=0, description="largest file the dashboard accepts as an upload")
    surfaces_dir: str | None = Field(
        None,
        description="where the dashboard writes mission overviews and reads them back (default: the project's "
        "data/surfaces/; relative to this file)",
    )
    basemap: str | None = Field(
        None,
        description="an offline basemap the mission brings: an .mbtiles or .pmtiles file or an {z}/{x}/{y} tile "
        "folder, served from this machine only (relative to this file)",
    )


class SurfaceSettings(_Frozen):
    cell_m: float = Field(100.0, gt=0)
    margin_m: float = Field(500.0, ge=0, description="study area = every outer zone plus this margin")


class Settings(_Frozen):
    """Every tunable number of an assessment. Defaults are illustrative and documented."""

    threat: ThreatSettings = Field(default_factory=ThreatSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    harm: HarmSettings = Field(default_factory=HarmSettings)
    surface: SurfaceSettings = Field(default_factory=SurfaceSettings)
    access: AccessSettings = Field(default_factory=AccessSettings)
    checklist: ChecklistSettings = Field(default_factory=ChecklistSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    record: RecordSettings = Field(default_factory=RecordSettings, exclude=True)  # where, not how: not hashed
    redaction: RedactionSettings = Field(default_factory=RedactionSettings, exclude=True)  # who sees: not hashed
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings, exclude=True)
    source: str = "built-in defaults"

    @property
    def sha256(self) -> str:
        canonical = json.dumps(self.model_dump(exclude={"source"}), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()


def load_settings(path: str | Path | None = None) -> Settings:
    """The built-in defaults, or a mission's TOML file layered over them."""
    if path is None:
        return Settings()
    path = Path(path).resolve()  # recorded as the file itself, whatever folder the command ran from
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError.single(path, "", "settings file not found", "check the path") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError.single(path, "", f"TOML syntax error: {exc}", "check the line it names") from None
    catalogue = data.get("checklist", {}).get("catalogue") if isinstance(data.get("checklist"), dict) else None
    if isinstance(catalogue, str):  # a mission's rule folder is named relative to its settings file
        data["checklist"]["catalogue"] = str((path.parent / catalogue).resolve())
    record = data.get("record")
    for key in ("audit_key", "audit_anchor"):  # the audit's files too, like the rules and data folders
        if isinstance(record, dict) and isinstance(record.get(key), str):
            record[key] = str((path.parent / record[key]).resolve())
    folders = data.get("dashboard", {}).get("data_dirs") if isinstance(data.get("dashboard"), dict) else None
    if isinstance(folders, list):  # so are the dashboard's data folders
        data["dashboard"]["data_dirs"] = [str((path.parent / str(f)).resolve()) for f in folders]
    for key in ("basemap", "surfaces_dir"):  # and its basemap and overviews
        named = data.get("dashboard", {}).get(key) if isinstance(data.get("dashboard"), dict) else None
        if isinstance(named, str):
            data["dashboard"][key] = str((path.parent / named).resolve())
    try:
        return Settings.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        problems = [Problem(str(path), ".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        raise InputError(problems) from None
