"""The primum command, run as a user runs it: exit codes, messages without tracebacks, JSON for scripts."""

from __future__ import annotations

import contextlib
import gc
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from planner.cli import _loading, app, app_for

ROOT = Path(__file__).resolve().parent.parent


def primum(*args: str, cwd: Path = ROOT, own_process: bool = False) -> subprocess.CompletedProcess[str]:
    """The command as a user types it: in a process of its own where the entry point itself is under test,
    else in this process (the same commands and exit codes, without a start-up per step)."""
    if own_process:
        return subprocess.run(
            [sys.executable, "-m", "planner.cli", *args], cwd=cwd, capture_output=True, text=True, check=False
        )
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(app_for(list(args)), list(args), catch_exceptions=False)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def test_each_command_reads_the_same_when_built_alone() -> None:
    """The entry point builds only the command asked for: its help, usage and errors are the whole command
    line's, and anything that is not a command gets the whole command line."""
    names = [c.name or typer.main.get_command_name(c.callback.__name__) for c in app.registered_commands if c.callback]
    assert {"assess", "brief", "export", "dashboard"} <= set(names)
    for name in names:
        for args in ([name, "--help"], [name, "--no-such-option"]):
            alone = CliRunner().invoke(app_for(args), args)
            whole = CliRunner().invoke(app, args)
            assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output), args
    for args in (["--help"], ["users", "--help"], ["asess", "x"], []):
        assert app_for(args) is app


def test_a_command_leaves_the_garbage_collector_running_whatever_happens(tmp_path: Path) -> None:
    """Libraries load with the collector paused (start-up): once they are loaded it runs again, also when the
    input is refused or the loading itself fails, so a long command never grows without collection."""
    for args in (["assess", "scenarios/sample.yaml"], ["assess", str(tmp_path / "missing.yaml")]):
        primum(*args)
        assert gc.isenabled(), args
        assert gc.get_freeze_count() > 0, args  # the libraries are out of the collector's sight
    with pytest.raises(ImportError), _loading():
        import planner.no_such_module  # type: ignore[import-not-found]  # noqa: F401, PLC0415
    assert gc.isenabled()


def test_validate_sample_plan_prints_every_layer_and_coa() -> None:
    result = primum("validate", "scenarios/sample.yaml")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "FICTIONAL" in out
    for name in ("COA A", "COA B", "COA C", "population", "events", "roads", "Usable: yes"):
        assert name in out
    assert "sensitive fields (never shown uncleared): source, notes" in out
    assert "extent lon 33.5" in out and "EPSG:32636" in out
    assert "Informant" not in out and "informant" not in out  # sources never printed


def test_validate_json_is_machine_readable() -> None:
    result = primum("validate", "scenarios/sample.yaml", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["usable"] is True
    assert report["layerset"]["ages_on"] == "2026-12-03"  # judged on the operation's start
    layers = {layer["id"]: layer for layer in report["layerset"]["layers"]}
    assert layers["population"]["pixel_size_m"] == 100.0
    assert layers["idp_poc"]["population_total"] == 14_200
    assert layers["sites"]["by_category"]["water"] == 6
    assert [e["id"] for e in report["plan"]["coas"][0]["elements"]] == ["cordon-1", "lz-1", "mortar-1", "assembly-1"]


def test_bad_input_exits_2_with_the_problem_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("area: X\nlayers:\n  h: {kind: sites, path: nowhere.csv}\n")
    result = primum("validate", str(tmp_path / "m.yaml"), own_process=True)
    assert result.returncode == 2
    assert "layers.h.path: file not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_that_is_not_what_its_name_says_exits_2_naming_the_key_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "pop.tif").write_bytes(b"not a tiff")
    (tmp_path / "m.yaml").write_text("area: X\nlayers:\n  p: {kind: population, path: pop.tif, units: count}\n")
    result = primum("validate", str(tmp_path / "m.yaml"))
    assert result.returncode == 2
    assert "layers.p.path: the content is not a tif file" in result.stderr and "Traceback" not in result.stderr


def test_a_damaged_tiff_exits_1_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "pop.tif").write_bytes(b"II*\x00" + b"\x00" * 60)  # a TIFF header, then nothing readable
    (tmp_path / "m.yaml").write_text("area: X\nlayers:\n  p: {kind: population, path: pop.tif, units: count}\n")
    result = primum("validate", str(tmp_path / "m.yaml"))
    assert result.returncode == 1
    assert "cannot be opened as a raster" in result.stderr and "Traceback" not in result.stderr


def test_sample_regenerates_identical_files(tmp_path: Path) -> None:
    result = primum("sample", "--root", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for path in (tmp_path / "data/sample").iterdir():
        assert path.read_bytes() == (ROOT / "data/sample" / path.name).read_bytes(), path.name
    assert (tmp_path / "scenarios/sample_areas.geojson").read_bytes() == (
        ROOT / "scenarios/sample_areas.geojson"
    ).read_bytes()


@pytest.mark.realdata
@pytest.mark.parametrize("manifest", ["juba.yaml", "bentiu.yaml", "bangui.yaml"])
def test_validate_real_manifests(realdata: Path, manifest: str) -> None:
    result = primum("validate", f"tests/manifests/{manifest}", "--on", "2026-12-01", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["usable"] is True


def test_assess_sample_prints_the_comparison_and_writes_valid_json(tmp_path: Path) -> None:
    import jsonschema  # noqa: PLC0415

    out = tmp_path / "result.json"
    result = primum("assess", "scenarios/sample.yaml", "--json", str(out), own_process=True)
    assert result.returncode == 0, result.stderr
    assert "Comparison (least harm first): C, B, A" in result.stdout
    assert "FICTIONAL" in result.stdout
    data = json.loads(out.read_text())
    jsonschema.validate(data, json.loads((ROOT / "planner/schemas/assessment.schema.json").read_text()))
    assert [c["id"] for c in data["coas"]] == ["A", "B", "C"]
    assert data["provenance"]["settings_sha256"] and len(data["provenance"]["layers"]) == 8


def test_assess_with_mission_settings(tmp_path: Path) -> None:
    (tmp_path / "mission.toml").write_text("[risk]\nscale = 5000.0\n[threat]\ndistance_m = 500\n")
    result = primum("assess", "scenarios/sample.yaml", "--settings", str(tmp_path / "mission.toml"), "--json", "-")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["provenance"]["settings"].endswith("mission.toml")
    assert data["coas"][0]["threats"]["distance_m"] == 500


def test_assess_bad_settings_and_bad_plan_exit_2_and_write_nothing(tmp_path: Path) -> None:
    (tmp_path / "mission.toml").write_text("[risk]\nscael = 5000.0\n")
    out = tmp_path / "result.json"
    result = primum("assess", "scenarios/sample.yaml", "--settings", str(tmp_path / "mission.toml"), "--json", str(out))
    assert result.returncode == 2 and "risk.scael" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "plan.yaml").write_text(
        "name: X\nlayers: nowhere.yaml\nwindow: {start: 2026-01-01T00:00:00Z, "
        "end: 2026-01-02T00:00:00Z}\ncoas: [{id: A, name: A, elements: "
        "[{id: e, activity: patrol, position: '36NWM6870086000'}]}]\n"
    )
    result = primum("assess", str(tmp_path / "plan.yaml"), "--json", str(out))
    assert result.returncode == 2 and "file not found" in result.stderr
    assert not out.exists()


def test_assess_lists_the_precautions_and_renders_them_in_french(tmp_path: Path) -> None:
    english = primum("assess", "scenarios/sample.yaml")
    assert english.returncode == 0, english.stderr
    assert "* P05 [high] Shelters, homes or a market under rotor wash: Alpha PoC Site" in english.stdout
    out = tmp_path / "fr.json"
    french = primum("assess", "scenarios/sample.yaml", "--lang", "fr", "--json", str(out))
    assert french.returncode == 0, french.stderr
    assert "* P05 [élevée] Abris, habitations ou marché sous le souffle des rotors: Alpha PoC Site" in french.stdout
    data = json.loads(out.read_text(encoding="utf-8"))
    assert {c["checklist"]["language"] for c in data["coas"]} == {"fr"}
    unknown = primum("assess", "scenarios/sample.yaml", "--lang", "sw", "--json", str(tmp_path / "sw.json"))
    assert unknown.returncode == 2 and "use one of en, fr" in unknown.stderr and "Traceback" not in unknown.stderr
    assert not (tmp_path / "sw.json").exists()
