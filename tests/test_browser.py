"""The dashboard in a real browser: Debian's headless Chromium, driven by Playwright, against the server on
loopback. It signs in, draws the map, reviews a checklist item, and proves that no request leaves the machine.
Screenshots are kept in ``test-artifacts/browser/``."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pytest
from basemap_world import TEAL, write_mbtiles
from conftest import debian_tool
from matplotlib.image import imread
from playwright.sync_api import Page, sync_playwright

from planner.assess import assess
from planner.dashboard.deck import PALETTE
from planner.plan import open_plan
from planner.record import Record

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "browser"
PASSWORD = "correct horse battery"
# What the machine's closed network needs from Chromium: no background services, no QUIC, software WebGL.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The dashboard served on loopback over a copy of the sample, with a recorded assessment to review."""
    for folder in ("scenarios", "layers", "data/sample"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    settings = tmp_path / "mission.toml"
    write_mbtiles(tmp_path / "basemap.mbtiles")  # the mission's offline basemap, served from this machine
    settings.write_text('[dashboard]\ndata_dirs = ["scenarios", "layers", "data"]\nbasemap = "basemap.mbtiles"\n')
    record = Record.open(f"sqlite:///{tmp_path / 'record.db'}")
    admin = record.add_user(None, "admin-1", "admin", PASSWORD)
    planner = record.add_user(admin, "planner-1", "planner", PASSWORD)
    record.add_user(admin, "adviser-1", "poc_adviser", PASSWORD)
    plan, layers = open_plan(tmp_path / "scenarios" / "sample.yaml")
    ident = record.record_assessment(planner, assess(plan, layers))
    port = free_port()
    env = {**os.environ, "PRIMUM_DB": str(tmp_path / "record.db"), "PRIMUM_SETTINGS": str(settings)}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(port, process)
        yield {"url": f"http://127.0.0.1:{port}", "record": record, "id": ident, "plan": plan}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _wait_healthy(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(120):
        assert process.poll() is None, "the dashboard server stopped while starting"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail("the dashboard server did not answer within a minute")


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_sign_in_map_and_review_in_chromium_with_no_request_leaving_loopback(server: dict[str, Any]) -> None:
    chromium = debian_tool("chromium", "chromium")
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()
        try:
            page.goto(server["url"] + "/signin")
            page.get_by_label("User name").fill("adviser-1")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("Signed in as adviser-1 (PoC adviser)").first.wait_for(timeout=60_000)
            shot(page, "1-signed-in")

            page.get_by_role("link", name="Map").click()
            canvas = page.locator("canvas").first
            canvas.wait_for(timeout=60_000)
            page.get_by_text("FICTIONAL training area and scenario").wait_for()
            time.sleep(3)  # deck.gl draws on the next animation frames
            shot(page, "2-map")
            pixels = imread(io.BytesIO(canvas.screenshot()), format="png")[..., :3]
            colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
            assert len(colours) > 50, "the map canvas is blank"
            # Risk cells: vermillion laid over the basemap at some opacity, i.e. on the line from teal to vermillion
            teal_rgb, vermillion = np.array(TEAL) / 255, np.array(PALETTE["risk"]) / 255
            along = np.clip(
                ((pixels - teal_rgb) @ (vermillion - teal_rgb)) / np.sum((vermillion - teal_rgb) ** 2), 0, 1
            )
            blend = teal_rgb + along[..., None] * (vermillion - teal_rgb)
            risk = ((np.linalg.norm(pixels - blend, axis=-1) < 0.06) & (along > 0.3)).mean()
            assert risk > 0.002, "no risk cell drawn"
            teal = np.all(np.abs(pixels * 255 - np.array(TEAL)) < 12, axis=-1).mean()
            assert teal > 0.05, "the offline basemap is not drawn under the layers"

            page.get_by_role("link", name="Checklist review").click()
            page.get_by_text(f"{server['id']}").first.wait_for(timeout=60_000)
            # A whole COA reviewed with the bulk form: choose C, tick all, a status, a note, apply
            interactions = 0
            page.get_by_text("C", exact=True).first.click()
            interactions += 1
            of_c = sum("C" in i["coas"] for i in server["record"].status(server["id"])["items"])
            tick_all = page.get_by_text("items shown and yours to review")
            for _ in range(120):  # until the rerun for COA C has replaced COA A's form
                if tick_all.count() == 1 and f"All {of_c} items" in tick_all.inner_text():
                    break
                time.sleep(0.5)
            tick_all.click()
            interactions += 1
            form = page.get_by_test_id("stForm").filter(has_text="Apply to the selection")
            # "addressed" is the bulk form's first status: nothing to choose
            form.get_by_label("Note (required").fill("checked in the browser")
            form.get_by_role("button", name="Apply to the selection").click()
            interactions += 2
            page.get_by_text("item(s) saved").wait_for(timeout=60_000)
            assert interactions <= 15
            shot(page, "3-reviewed")

            # Every page keeps its address: a deep link opens it, and the root opens the map
            page.goto(server["url"] + "/compare")
            page.get_by_role("heading", name="Compare courses of action").wait_for(timeout=60_000)
            assert "Page not found" not in page.content()
            page.goto(server["url"] + "/map")
            page.locator("canvas").first.wait_for(timeout=60_000)
            assert "Page not found" not in page.content()
            shot(page, "4-deep-link")
        finally:
            shot(page, "last")  # what the browser showed when the test ended, failed or not
            browser.close()

    reviewed = [i for i in server["record"].status(server["id"])["items"] if "C" in i["coas"]]
    assert reviewed and all(i["status"] == "addressed" and i["history"][-1]["by"] == "adviser-1" for i in reviewed)
    outside = sorted(
        {
            u
            for u in requests
            if urlparse(u).scheme not in ("data", "blob", "about") and urlparse(u).hostname != "127.0.0.1"
        }
    )
    assert not outside, f"requests left the machine: {outside}"
    tiles = [u for u in requests if re.search(r"^http://127\.0\.0\.1:\d+/\d+/\d+/\d+$", u)]
    assert tiles, "no basemap tile was asked for"
    assert len(requests) > 20  # the recording saw the page load
