"""What each means does to a person at a distance: probabilities of harm per mechanism, as pure functions.

Every function returns three arrays (low, central, high) of the probability that a person present at each
distance is killed or injured, so the range of the estimate comes from the same numbers as its centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.effects import ActivitySpec, BlastSpec, Zone, intensity
from planner.harm.presence import Reason
from planner.plan import Element

# CEP -> sigma of a circular normal delivery error (CEP = 1.1774 sigma).
CEP_PER_SIGMA = math.sqrt(2 * math.log(2))
# Beyond this many standard deviations of the blast's spread the probability is below 0.04 % of its peak.
BLAST_REACH_SIGMAS = 4.0

Probabilities = tuple[np.ndarray, np.ndarray, np.ndarray]


def blast_probability(distance_m: np.ndarray, casualty_area_m2: float, sigma_m: float, rounds: int) -> np.ndarray:
    """Probability that at least one of ``rounds`` rounds aimed at distance ``distance_m`` harms a person.

    One burst harms with the Carleton function ``exp(-pi r^2 / A)`` (a Gaussian of variance ``A / 2 pi`` that
    integrates to the casualty area ``A``); bursts land around the aimpoint with a circular normal error of
    ``sigma_m``. The convolution of the two Gaussians is exact: peak ``s^2 / (s^2 + sigma^2)``, variance
    ``s^2 + sigma^2``, still integrating to ``A``. Rounds are independent: ``1 - (1 - p)^N``.
    """
    s2 = casualty_area_m2 / (2 * math.pi)
    variance = s2 + sigma_m**2
    one = (s2 / variance) * np.exp(-np.square(distance_m) / (2 * variance))
    return 1.0 - np.power(1.0 - one, rounds)


@dataclass(frozen=True)
class Mechanism:
    """One mechanism of one element, ready to be evaluated at distances from the element."""

    name: str
    element: str
    activity: str
    zone: Zone
    spec: Any
    reach_m: float
    parameters: dict[str, Any]
    widened_by: tuple[Reason, ...] = ()
    threat: tuple[float, float, float] = (1.0, 1.0, 1.0)
    fine_m: float = 0.0  # sample cells this finely (0: cell centres are enough)
    _blast: tuple[tuple[float, int], ...] = field(default=())  # (sigma, rounds) for low, central, high

    def probability(self, distance_m: np.ndarray) -> Probabilities:
        """Probability of being killed or injured for a person present at each distance (low, central, high)."""
        d = np.asarray(distance_m, dtype=float)
        spread_low, spread_high = self.spec.spread
        if self.name == "blast":
            spec: BlastSpec = self.spec
            # Probabilities for a person exposed to fragments; ``exposed`` says what share of people are.
            options = [blast_probability(d, spec.casualty_area_m2, s, n) for s, n in self._blast]
            low = np.minimum.reduce(options) * spread_low
            high = np.minimum(np.maximum.reduce(options) * spread_high, 1.0)
            return low, options[1], high
        reach = self.in_core(d).astype(float) if self.name == "movement_restriction" else self.intensity(d)
        rate = float(self.spec.rate)
        low_t, mid_t, high_t = self.threat
        low = reach * rate * low_t * spread_low
        central = reach * rate * mid_t
        high = np.minimum(reach * rate * high_t * spread_high, 1.0)
        return low, central, high

    @property
    def exposed(self) -> float | None:
        """Share of the people present exposed to this mechanism (fragments), None when it reaches everyone."""
        return float(self.spec.exposed_share) if self.name == "blast" else None

    def in_core(self, distance_m: np.ndarray) -> np.ndarray:
        """Inside the element's core zone: an area is its own core (distance 0 inside it)."""
        return np.asarray(distance_m) <= self.zone.core_m if self.zone.core_m > 0 else np.asarray(distance_m) <= 0

    def intensity(self, distance_m: np.ndarray) -> np.ndarray:
        return intensity(distance_m, self.zone.core_m, self.zone.outer_m, self.zone.profile)

    def damage(self, distance_m: np.ndarray) -> np.ndarray:
        """Probability that a building at each distance is struck (explosive means only, central figures)."""
        if self.name != "blast":
            return np.zeros(np.shape(distance_m))
        sigma, rounds = self._blast[1]
        return blast_probability(np.asarray(distance_m, dtype=float), self.spec.casualty_area_m2, sigma, rounds)


def mechanisms_of(
    element: Element, zone: Zone, spec: ActivitySpec, threat: tuple[float, float, float]
) -> list[Mechanism]:
    """The mechanisms an element's activity brings, with the plan's figures (rounds, observer) applied."""
    found = []
    table = spec.mechanisms
    if table.blast is not None:
        found.append(_blast(element, zone, table.blast))
    for name in ("stray_rounds", "rotor_wash", "movement_restriction", "traffic", "drawing_fire"):
        rate = getattr(table, name)
        if rate is None:
            continue
        parameters: dict[str, Any] = {"rate": rate.rate, "core_m": zone.core_m, "outer_m": zone.outer_m}
        if name == "drawing_fire":
            parameters["threat"] = round(threat[1], 3)
        found.append(
            Mechanism(
                name,
                element.id,
                element.activity,
                zone,
                rate,
                reach_m=zone.outer_m,
                parameters=parameters,
                threat=threat if name == "drawing_fire" else (1.0, 1.0, 1.0),
            )
        )
    return found


def _blast(element: Element, zone: Zone, spec: BlastSpec) -> Mechanism:
    observed, unobserved = spec.cep_observed_m / CEP_PER_SIGMA, spec.cep_unobserved_m / CEP_PER_SIGMA
    widened: list[Reason] = []
    if element.observer is True:
        sigmas = (observed, observed, observed)
    elif element.observer is False:
        sigmas = (unobserved, unobserved, unobserved)
    else:
        sigmas = (observed, unobserved, unobserved)
        widened.append(("observer_unknown", element.id))
    if element.munitions is not None:
        rounds = (element.munitions,) * 3
    else:
        rounds = (1, spec.rounds, 2 * spec.rounds)
        widened.append(("munitions_unknown", f"{element.id} ({spec.rounds})"))
    s2 = spec.casualty_area_m2 / (2 * math.pi)
    widest = math.sqrt(s2 + max(sigmas) ** 2)
    narrowest = math.sqrt(s2 + min(sigmas) ** 2)
    parameters = {
        "casualty_area_m2": spec.casualty_area_m2,
        "rounds": rounds[1],
        "observed": element.observer,
        "cep_m": round(sigmas[1] * CEP_PER_SIGMA, 1),
        "exposed_share": spec.exposed_share,
        "aimpoint": "the element's position",
    }
    return Mechanism(
        "blast",
        element.id,
        element.activity,
        zone,
        spec,
        reach_m=max(BLAST_REACH_SIGMAS * widest, zone.outer_m),
        parameters=parameters,
        widened_by=tuple(widened),
        fine_m=narrowest / 2,
        _blast=tuple(zip(sigmas, rounds, strict=True)),
    )
