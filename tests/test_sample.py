"""The bundled sample area is what the issue promised: fictional, labelled, the right size and contents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio

from planner.layers import load_layerset
from planner.sample import LABEL

ROOT = Path(__file__).resolve().parent.parent


def test_every_file_says_it_is_fictional() -> None:
    for path in (ROOT / "data/sample").iterdir():
        if path.suffix == ".tif":
            with rasterio.open(path) as src:
                assert src.tags()["LABEL"] == LABEL
        else:
            assert "FICTIONAL" in path.read_text(encoding="utf-8").upper(), path.name
    assert "FICTIONAL" in (ROOT / "scenarios/sample.yaml").read_text()
    assert "FICTIONAL" in (ROOT / "layers/sample.yaml").read_text()


def test_population_is_a_town_outskirts_and_villages() -> None:
    layerset = load_layerset(ROOT / "layers/sample.yaml")
    pop = layerset.population
    assert pop is not None and pop.pixel_size_m == 100.0
    with rasterio.open(pop.path) as src:
        values = src.read(1, masked=True)
    total = float(values.sum())
    assert 50_000 <= total <= 100_000
    # The town centre is far denser than the villages, which are denser than the open country.
    assert values.max() > 50 and float(np.ma.median(values)) < 2


def test_sample_holds_what_a_training_area_needs() -> None:
    layerset = load_layerset(ROOT / "layers/sample.yaml")
    sites = layerset.layers["sites"].frame
    health = layerset.layers["health"].frame
    categories = set(sites["category"]) | set(health["category"])
    assert {"health", "education", "worship", "market", "water", "bridge"} <= categories
    names = list(health["name"])
    assert sum("Hospital" in n for n in names) >= 1
    assert sum(any(word in n for word in ("Clinic", "PHCU", "Health Post")) for n in names) >= 3
    idp = [*layerset.of_kind("displacement")]
    sizes = sorted(p for layer in idp for p in layer.frame["population"])
    assert len(sizes) == 3 and sizes[-1] > 10 * sizes[-2]  # one large site, two small
    events = layerset.layers["events"]
    assert set(events.frame["kind"]) >= {"attack_on_civilians", "sexual_violence", "armed_clash"}
    days = (events.frame["date"].max() - events.frame["date"].min()).days
    assert 150 <= days <= 183
    assert events.frame["source"].str.contains("CAN alert").sum() >= 3  # some reports name a community source
    roads = layerset.layers["roads"].frame
    assert roads["bridge"].sum() == 1
