"""The keys a layer-set manifest may give for each kind of layer.

Column keys (``lat``, ``population``, ``class`` ...) name columns of the file; every other key is
documented on its field. Unknown keys are errors, so a typo never silently drops a setting.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Category = Literal[
    "health",
    "education",
    "worship",
    "market",
    "water",
    "power",
    "bridge",
    "humanitarian",
    "government",
    "other",
]

# Default freshness limits in days, per kind: how old a layer may be on the operation date before it is
# flagged stale. A mission sets its own with `max_age_days` on the layer.
DEFAULT_MAX_AGE_DAYS = {
    "population": 5 * 365,
    "sites": 2 * 365,
    "displacement": 180,
    "threats": 30,
    "roads": 2 * 365,
    "backdrop": 10 * 365,
    "admin": 10 * 365,
    "population_table": 5 * 365,
}


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    path: str
    as_of: date | None = Field(None, description="date the data describes (not the download date)")
    max_age_days: int | None = Field(None, gt=0, description="freshness limit; default per kind")
    crs: str | None = Field(None, description="CRS for a file that has none; must match one it has")
    layer: str | None = Field(None, description="layer name inside a GeoPackage")
    description: str = ""
    source: str = ""
    licence: str = ""
    sensitive: list[str] = Field(default_factory=list, description="columns never shown to uncleared roles")


class _TableSpec(_Spec):
    lat: str | None = None
    lon: str | None = None
    wkt: str | None = None
    id: str | None = None
    name: str | None = None
    keep: list[str] = Field(default_factory=list, description="extra source columns to carry along")
    sep: Literal[",", ";", "\t", "|"] | None = Field(None, description="CSV separator when it cannot be told")
    decimal: Literal[".", ","] | None = Field(None, description="decimal mark when the file writes both")
    encoding: str | None = Field(None, description="text encoding of a CSV that is not UTF-8, cp1252 or latin-1")
    sheet: str | None = Field(None, description="sheet of an XLSX or ODS workbook (default: the first)")
    max_bad_rows: float = Field(
        0.01,
        ge=0,
        le=1,
        description="share of rows that may be unreadable (dropped and listed) before the layer is refused",
    )


class PopulationSpec(_Spec):
    kind: Literal["population"]
    units: Literal["count", "density_km2"]
    nodata: float | Literal["none"] | None = Field(
        None, description="nodata value when the file has none; `none` when every pixel is valid"
    )
    band: int = Field(1, ge=1)


class SitesSpec(_TableSpec):
    kind: Literal["sites"]
    category: Category | None = Field(None, description="one category for every feature of the layer")
    category_column: str | None = None
    category_map: dict[str, Category] = Field(default_factory=dict)
    status: str | None = Field(None, description="column with functional status (e.g. health facilities)")
    status_map: dict[str, Literal["functional", "partly_functional", "not_functional", "unknown"]] = Field(
        default_factory=dict, description="status texts of this file -> what they mean, beyond the known words"
    )
    hours: str | None = Field(None, description="column with OSM-style opening hours (`Mo,Th 06:00-14:00`)")
    religion: str | None = Field(
        None, description="column with a place of worship's religion (OSM `religion`), for its usual service times"
    )
    occupancy: str | None = Field(None, description="column with the people present at a site while it is open")
    date: str | None = Field(None, description="column with each row's date (for `repeated: latest`)")
    date_format: str | None = Field(None, description="strftime format of the dates, e.g. '%d/%m/%Y'")
    repeated: Literal["first", "last", "latest"] | None = Field(
        None,
        description="which row wins when a site has several (same id or name at one place); default: latest "
        "when there is a date column, else first",
    )


class DisplacementSpec(_TableSpec):
    kind: Literal["displacement"]
    population: str | None = None
    date: str | None = Field(None, description="column with the date of each site's count")
    date_format: str | None = Field(None, description="strftime format of the dates, e.g. '%d/%m/%Y'")
    site_type: str | None = None
    location_precision: Literal["site", "town"] | None = Field(
        None, description="`town` when coordinates are town centroids rather than the sites themselves"
    )
    repeated: Literal["first", "last", "latest"] | None = Field(
        None,
        description="which row wins when a site has several (rounds of counts): default latest when there is a "
        "date column, else first",
    )
    admin: str | None = Field(
        None, description="id of a `kind: admin` layer: the figures are per admin area, joined to it (no coordinates)"
    )
    admin_key: str | None = Field(None, description="column with each row's admin p-code or name (with `admin:`)")
    admin_names: dict[str, str | None] = Field(
        default_factory=dict,
        description="area names as this file spells them -> as the admin layer does (null: not in it, left out)",
    )


class AdminSpec(_TableSpec):
    kind: Literal["admin"]
    pcode: str | None = Field(None, description="column with the area's p-code (found when it is named so)")


class PopulationTableSpec(_TableSpec):
    """People per admin area (a census or county estimate table): the raster is scaled to its figures."""

    kind: Literal["population_table"]
    admin: str = Field(description="id of the `kind: admin` layer the areas are in")
    admin_key: str = Field(description="column with each row's admin p-code or name")
    admin_names: dict[str, str | None] = Field(
        default_factory=dict,
        description="area names as this file spells them -> as the admin layer does (null: not in it, left out)",
    )
    population: str = Field(description="column with the people of each area")
    date: str | None = Field(None, description="column with each figure's date (the latest per area is kept)")
    date_format: str | None = Field(None, description="strftime format of the dates, e.g. '%d/%m/%Y'")


class ThreatsSpec(_TableSpec):
    kind: Literal["threats"]
    schema_: Literal["acled", "ucdp", "generic"] = Field(alias="schema")
    date: str | None = None
    date_format: str | None = Field(None, description="strftime format of the dates, e.g. '%d/%m/%Y'")
    type: str | None = None
    severity: str | None = None
    fatalities: str | None = None
    precision: str | None = Field(None, description="column with location precision (generic schema)")
    type_map: dict[str, str] = Field(default_factory=dict, description="generic `type` values -> threat kinds")
    community_source: bool = Field(
        False, description="every report came from community members (alert network, CAN): protect them"
    )
    source_type: str | None = Field(None, description="column saying what kind of source each report came from")
    community_values: list[str] = Field(
        default_factory=lambda: ["community", "can", "cla", "alert network", "local source"],
        description="words in `source_type` that mark a community source (case-insensitive)",
    )


class RoadsSpec(_TableSpec):
    kind: Literal["roads"]
    road_class: str | None = Field(
        None,
        alias="class",
        description="column with the road class; `none` when the file has none (default: highway, class, fclass)",
    )
    surface: str | None = None
    condition: str | None = None
    rainy: str | None = Field(None, description="column saying rainy-season passability")
    bridge: str | None = None


class BackdropSpec(_TableSpec):
    kind: Literal["backdrop"]
    feature: str | None = Field(None, description="column naming what each feature is (river, boundary ...)")


LayerSpec = Annotated[
    PopulationSpec
    | SitesSpec
    | DisplacementSpec
    | ThreatsSpec
    | RoadsSpec
    | BackdropSpec
    | AdminSpec
    | PopulationTableSpec,
    Field(discriminator="kind"),
]


class ManifestSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    area: str
    fictional: bool = Field(False, description="the area is invented for training; every view says so")
    description: str = ""
    layers: dict[str, LayerSpec]

    @field_validator("layers")
    @classmethod
    def _not_empty(cls, value: dict[str, LayerSpec]) -> dict[str, LayerSpec]:
        if not value:
            raise ValueError("a layer set needs at least one layer")
        return value
