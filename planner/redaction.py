"""What may leave the tool: the one place that decides which fields and positions an output or a screen gets.

Two protections, both stated in every output:

- **Sensitive fields.** Columns a layer set marks ``sensitive`` (a threat report's source, notes naming the
  community members who alerted the mission) are withheld unless the user's role is one of
  ``[redaction] cleared_roles`` *and* the user asks for them. Asking without clearance is refused, not
  quietly ignored, so nobody believes they exported sources when they did not.
- **Coarse threat locations.** For outputs shared outside the mission, report positions move to the centre of
  their cell on a grid of ``coarsen_km`` (aligned on the working CRS's origin, so every output of one
  assessment uses the same cells), distances from reports to the footprint are given only as "within" a
  multiple of the cell, and the risk surface is aggregated to the same cells: no output narrows a report's
  position below its cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planner.errors import InputError
from planner.layers.manifest import LayerSet
from planner.record import NotAllowedError, User
from planner.settings import RedactionSettings
from planner.vocabulary import HARM_SENSITIVE

WORDS = {
    "en": {
        "withheld": "Withheld (marked sensitive in the layer set): {fields}.",
        "included": "Sensitive fields INCLUDED at the request of {user} ({role}): {fields}. Do not share.",
        "none": "No field of these layers is marked sensitive.",
        "coarsened": (
            "Threat-report and harm locations moved to the centres of {km} km grid cells; distances to reports "
            "given only to the next {km} km; risk surface aggregated to the same cells."
        ),
        "exact": "Threat-report locations exact: for use inside the mission only.",
    },
    "fr": {
        "withheld": "Retenus (marqués sensibles dans le jeu de couches) : {fields}.",
        "included": "Champs sensibles INCLUS à la demande de {user} ({role}) : {fields}. Ne pas diffuser.",
        "none": "Aucun champ de ces couches n'est marqué sensible.",
        "coarsened": (
            "Positions des signalements et des dommages ramenées au centre de mailles de {km} km ; distances aux "
            "signalements données au {km} km supérieur ; surface de risque agrégée sur les mêmes mailles."
        ),
        "exact": "Positions des signalements exactes : usage interne à la mission uniquement.",
    },
}


@dataclass(frozen=True)
class Redaction:
    """What one output may carry. The default withholds every sensitive field and keeps exact positions."""

    sensitive: bool = False
    coarsen_m: float | None = None
    asked_by: User | None = None

    def fields(self, layerset: LayerSet | None) -> list[str]:
        """Every sensitive field of the layer set, as ``layer.column`` (none without one)."""
        return [f"{layer.id}.{column}" for layer in layerset or () for column in layer.sensitive]

    def columns(self, sensitive: tuple[str, ...]) -> list[str]:
        """The sensitive columns of one layer this output may carry."""
        return list(sensitive) if self.sensitive else []

    def statement(self, layerset: LayerSet | None, lang: str = "en", *, harm: bool = False) -> list[str]:
        """What was redacted, in words, for the head of every output; ``harm``: it carries harm records, whose
        witness and reporter names are sensitive too."""
        words = WORDS.get(lang, WORDS["en"])
        fields = self.fields(layerset) + ([f"harm_records.{name}" for name in HARM_SENSITIVE] if harm else [])
        if not fields:
            lines = [words["none"]]
        elif self.sensitive and self.asked_by is not None:
            lines = [
                words["included"].format(user=self.asked_by.name, role=self.asked_by.role, fields=", ".join(fields))
            ]
        else:
            lines = [words["withheld"].format(fields=", ".join(fields))]
        if self.coarsen_m:
            lines.append(words["coarsened"].format(km=f"{self.coarsen_m / 1000:g}"))
        else:
            lines.append(words["exact"])
        return lines

    def points(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Report positions (working CRS, metres) as this output may show them: cell centres when coarsened."""
        if not self.coarsen_m:
            return x, y
        cell = self.coarsen_m
        return (np.floor(x / cell) + 0.5) * cell, (np.floor(y / cell) + 0.5) * cell

    def distance(self, metres: float | None) -> float | None:
        """A report's distance to the footprint: exact, or rounded up to the next whole cell when coarsened."""
        if metres is None or not self.coarsen_m:
            return metres
        return max(1, math.ceil(metres / self.coarsen_m)) * self.coarsen_m


def policy(
    user: User | None,
    settings: RedactionSettings,
    *,
    include_sensitive: bool = False,
    coarsen_km: float | None = None,
) -> Redaction:
    """The redaction for ``user`` asking for an output; refused when sensitive fields are asked uncleared."""
    if include_sensitive and (user is None or user.role not in settings.cleared_roles):
        who = f"{user.name} ({user.role})" if user else "nobody signed in"
        cleared = " or ".join(settings.cleared_roles) or "no role"
        raise NotAllowedError(
            f"{who} may not include sensitive fields: only a {cleared} may (settings [redaction] cleared_roles)"
        )
    if coarsen_km is not None and not (coarsen_km > 0 and math.isfinite(coarsen_km)):
        raise InputError.single("--coarsen-km", "", f"{coarsen_km} is not a grid size", "give a size in km above 0")
    return Redaction(
        sensitive=include_sensitive,
        coarsen_m=None if coarsen_km is None else coarsen_km * 1000.0,
        asked_by=user if include_sensitive else None,
    )
