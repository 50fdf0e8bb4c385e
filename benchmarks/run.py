"""Every benchmark in one run, and the ratios against the library references in one table.

    python benchmarks/run.py            # the default sizes (the country raster takes minutes to make once)
    python benchmarks/run.py --quick    # small sizes, for a look

Runs each script of this folder in its own process (so one's caches never help another), prints its output,
then gathers every line that carries a ratio into one table at the end.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "startup": (["bench_startup.py"], ["bench_startup.py", "--runs", "5"]),
    "assessment": (["bench_assess.py"], ["bench_assess.py", "--size", "5000"]),
    "network": (["bench_network.py"], ["bench_network.py", "--side", "200"]),
    "COAs": (["bench_coas.py"], ["bench_coas.py", "--runs", "3"]),
    "layers": (["bench_layers.py"], ["bench_layers.py", "--sizes", "10000", "100000"]),
    "dashboard": (["bench_dashboard.py"], ["bench_dashboard.py"]),
    "sweep": (
        ["bench_sweep.py", "--workers", "1", "2"],
        ["bench_sweep.py", "--candidates", "400", "--workers", "1", "2"],
    ),
    "browser": (["bench_browser.py"], ["bench_browser.py", "--runs", "3"]),  # needs Debian's chromium
}
RATIO = re.compile(r"ratio\s+([\d.]+)|([\d.]+)x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    quick = parser.parse_args().quick
    table: list[tuple[str, str]] = []
    for name, (full, small) in SCRIPTS.items():
        args = small if quick else full
        print(f"== {name}: python benchmarks/{' '.join(args)}", flush=True)
        command = [sys.executable, str(HERE / args[0]), *args[1:]]
        done = subprocess.run(command, check=False, capture_output=True, text=True)  # 1: a target missed
        print(done.stdout, done.stderr if done.returncode not in (0, 1) else "", sep="", flush=True)
        table += [(name, line.strip()) for line in done.stdout.splitlines() if RATIO.search(line)]
    print("== every ratio, side by side")
    for name, line in table:
        print(f"{name:<11} {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
