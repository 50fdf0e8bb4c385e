"""Vector layers read once per process: the dashboard, record rebuilds and repeated assessments read the same
files again and again, and a national threat or road file is the costliest thing they read.

A layer is kept under what its reading depends on: the file's identity (resolved path, size, modification
time: a changed file is read afresh), the layer's id and spec in the manifest, the study area and the reports
kept beyond it, and the day (a report dated after today is flagged as such). Whoever takes a layer gets its
own copy of the layer's lists (flags, dropped rows), so what one layer set adds to them reaches no other;
the frame and what is built from it (projections, road graphs) are shared, read-only.

The cache lives in memory only: threat layers hold report sources and witnesses that must not be written
to an unprotected file beside the data.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from planner.layers.model import BeyondArea, VectorLayer
from planner.opening import file_identity

# Enough for the layer sets a dashboard keeps (``state._layerset`` holds up to 8) and their study areas
ENTRIES = 32


@dataclass(frozen=True)
class ReadKey:
    identity: tuple[str, int, int]
    layer_id: str
    spec: str  # the layer's entry of the manifest, as JSON
    area: tuple[float, float, float, float] | None
    beyond: BeyondArea | None
    day: date

    @classmethod
    def of(
        cls,
        file: Path,
        layer_id: str,
        spec: str,
        area: tuple[float, float, float, float] | None,
        beyond: BeyondArea | None,
    ) -> ReadKey:
        return cls(file_identity(file), layer_id, spec, area, beyond, date.today())


class ReadCache:
    """The layers read in this process, least recently used dropped first."""

    def __init__(self, entries: int = ENTRIES) -> None:
        self._entries = entries
        self._kept: OrderedDict[ReadKey, VectorLayer] = OrderedDict()
        self._lock = threading.Lock()  # dashboard sessions run in threads

    def get(self, key: ReadKey) -> VectorLayer | None:
        with self._lock:
            layer = self._kept.get(key)
            if layer is None:
                return None
            self._kept.move_to_end(key)
        return _own_copy(layer)

    def put(self, key: ReadKey, layer: VectorLayer) -> None:
        with self._lock:
            self._kept[key] = _own_copy(layer)
            self._kept.move_to_end(key)
            while len(self._kept) > self._entries:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


def _own_copy(layer: VectorLayer) -> VectorLayer:
    kept = copy.copy(layer)
    kept.flags = list(layer.flags)
    kept.dropped = list(layer.dropped)
    return kept


READ_LAYERS = ReadCache()
