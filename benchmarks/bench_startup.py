"""What a user waits for before Primum does anything: the CPU of a cold command against the libraries it needs.

    python benchmarks/bench_startup.py            # 7 paired runs of each

Primum runs as on a machine with no record yet (``PRIMUM_DB`` names a file that does not exist). Each
pair runs, one after the other in fresh processes, Primum's command and the reference a skilled user
would have to pay anyway, and takes the CPU (user + system) of each; the table shows medians and the median
of the per-pair ratios, against the targets:

- `primum assess scenarios/sample.yaml`  vs  `python -c "import geopandas, rasterio, pyogrio, exactextract,
  scipy.sparse.csgraph"` (the libraries an assessment cannot do without): at most 1.6x
- `primum --help`  vs  `python -c "import typer"`: at most 1.2x plus 0.2 s
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRIMUM = [sys.executable, "-m", "planner.cli"]
CORE = "import geopandas, rasterio, pyogrio, exactextract, scipy.sparse.csgraph"


# As on a machine where no record has been made yet: whatever record this machine keeps is not read. And as
# Python runs by default, keeping compiled bytecode: a shell that turned that off would have every run compile
# Primum's modules from source, which no user's second command pays.
NO_RECORD = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PRIMUM_DB": str(Path(tempfile.gettempdir()) / "primum-bench-no-record" / "none.db"),
}


def cpu_of(command: list[str]) -> float:
    """CPU seconds (user + system) of one run of ``command`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=ROOT, env=NO_RECORD, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def paired(ours: list[str], theirs: list[str], runs: int) -> tuple[float, float, float]:
    """Medians of our CPU, the reference's, and of the per-pair ratio."""
    mine, reference = [], []
    for _ in range(runs):
        mine.append(cpu_of(ours))
        reference.append(cpu_of(theirs))
    ratios = [m / r for m, r in zip(mine, reference, strict=True)]
    return statistics.median(mine), statistics.median(reference), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    cpu_of([*PRIMUM, "assess", "scenarios/sample.yaml"])  # the first run compiles bytecode: not counted
    print(f"{'command':<36} {'primum':>9} {'reference':>10} {'ratio':>7}  target")
    ours, ref, ratio = paired([*PRIMUM, "assess", "scenarios/sample.yaml"], [sys.executable, "-c", CORE], runs)
    verdict = "ok" if ratio <= 1.6 else "OVER"
    print(f"{'assess sample (cold)':<36} {ours:8.2f}s {ref:9.2f}s {ratio:6.2f}x  <= 1.6x  {verdict}")
    ours, ref, _ = paired([*PRIMUM, "--help"], [sys.executable, "-c", "import typer"], runs)
    limit = 1.2 * ref + 0.2
    verdict = "ok" if ours <= limit else "OVER"
    print(f"{'--help':<36} {ours:8.2f}s {ref:9.2f}s {ours / ref:6.2f}x  <= {limit:.2f}s  {verdict}")


if __name__ == "__main__":
    main()
