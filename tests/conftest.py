"""Fixtures: tiny hand-checkable layers written to temporary folders, and the real data beside the project."""

from __future__ import annotations

import ctypes.util
import fcntl
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import argon2
import numpy as np
import pytest
import rasterio
import yaml
from affine import Affine
from hypothesis import settings

import planner.record.assessments

ROOT = Path(__file__).resolve().parent.parent

# Properties are laws, not timings: no per-example deadline, which a busy machine (both cores taken by the
# suite's workers) would turn into flakes.
settings.register_profile("primum", deadline=None)
settings.load_profile("primum")
REALDATA = ROOT.parent / "shared" / "realdata"
MANIFESTS = Path(__file__).resolve().parent / "manifests"


# The product hashes passwords with Argon2id at its recommended cost (0.17 s a hash, on purpose: a guessed
# password costs an attacker as much). Tests that make a record of five users would spend most of their time
# there, so in this process they hash at the least cost; the product's own strength is asserted in
# test_users.py against this original, and every command run as a process of its own keeps it.
PRODUCT_HASHER = planner.record.assessments._HASHER
CHEAP_HASHER = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planner.record.assessments, "_HASHER", CHEAP_HASHER)


@pytest.fixture(autouse=True)
def _no_record_of_this_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test has its own record in use (created only if the test writes to it), never the record of the
    machine it runs on, whose harm records would enter every assessment."""
    monkeypatch.setenv("PRIMUM_DB", str(tmp_path / "in-use" / "primum.db"))


@pytest.fixture(autouse=True)
def _collector_sees_everything_again() -> Iterator[None]:
    """A command run in this process freezes what is alive once its libraries are loaded (start-up): in a
    user's process that is the libraries, here it is also the suite's earlier tests, given back afterwards."""
    yield
    gc.unfreeze()


def require_realdata() -> Path:
    """The real layers; in CI their absence is a failure, never a skip."""
    if not REALDATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"real data not found at {REALDATA}: CI must run the real-data tests")
        pytest.skip(f"real data not found at {REALDATA}")
    return REALDATA


def debian_tool(command: str, package: str) -> str:
    """A Debian tool the tests need, installed where missing (never downloaded by the tests otherwise)."""
    found = shutil.which(command)
    if found is None:
        _apt_install(package)
        found = shutil.which(command)
    assert found, f"{command} is missing and `apt-get install {package}` did not provide it"
    return found


def _apt_install(package: str) -> None:
    """One install at a time across the suite's workers (two would race for dpkg's lock, and one would fail);
    apt itself also waits for a lock held by anything else on the machine."""
    wait = ["-o", "DPkg::Lock::Timeout=600"]
    install = ["apt-get", *wait, "install", "-y", "-q", "--no-install-recommends", package]
    with (Path(tempfile.gettempdir()) / "primum-tests-apt.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if subprocess.run(install, check=False, capture_output=True).returncode != 0:  # stale package lists
            subprocess.run(["apt-get", *wait, "update", "-q"], check=True, capture_output=True)
            subprocess.run(install, check=True, capture_output=True)


# WeasyPrint subsets the brief's fonts with HarfBuzz and warns, when its library is missing, on import: the
# library is installed before any test imports it, as the README asks of a machine that writes PDF briefs.
if ctypes.util.find_library("harfbuzz-subset") is None:
    _apt_install("libharfbuzz-subset0")


@pytest.fixture
def realdata() -> Path:
    return require_realdata()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A real PostgreSQL server for this test worker, started on first use and stopped at the end."""
    import pg_server  # noqa: PLC0415

    server = pg_server.start()
    yield server
    server.stop()


def write_raster(
    path: Path,
    values: np.ndarray,
    *,
    crs: str | None = "EPSG:32636",
    origin: tuple[float, float] = (500_000.0, 600_000.0),
    pixel: float = 100.0,
    nodata: float | None = -9999.0,
) -> Path:
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "height": values.shape[0],
        "width": values.shape[1],
        "transform": Affine(pixel, 0, origin[0], 0, -pixel, origin[1]),
        "nodata": nodata,
    }
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values.astype("float32"), 1)
    return path


def feature_collection(features: list[tuple[dict[str, Any], dict[str, Any] | None]], crs: str | None = None) -> str:
    data: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
    }
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(data)


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


@pytest.fixture
def make_manifest(tmp_path: Path) -> Callable[..., Path]:
    """Write files and a manifest into a temporary folder; returns the manifest's path."""

    def make(layers: dict[str, dict[str, Any]], files: dict[str, str | bytes] | None = None, **top: Any) -> Path:
        for name, content in (files or {}).items():
            target = tmp_path / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        manifest = tmp_path / "manifest.yaml"
        manifest.write_text(yaml.safe_dump({"area": "Test area", **top, "layers": layers}), encoding="utf-8")
        return manifest

    return make


@pytest.fixture(scope="session")
def dask_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Dask scheduler and two workers, each a process of its own on loopback, for this test worker."""
    folder = tmp_path_factory.mktemp("dask")
    address_file = folder / "scheduler.json"
    dask = str(Path(sys.executable).parent / "dask")
    common = ["--no-dashboard"]
    processes = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(address_file), *common],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(address_file.read_text(encoding="utf-8"))["address"]
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [
                        dask,
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--no-nanny",
                        "--host",
                        "127.0.0.1",
                        "--death-timeout",
                        "60",
                        "--local-directory",
                        str(folder),
                        *common,
                    ],
                    cwd=folder,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        yield address
    finally:
        for process in processes[::-1]:  # the workers first, while the scheduler can still let them go
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
