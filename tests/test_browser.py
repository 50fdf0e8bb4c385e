"""The dashboard in a real browser: Debian's headless Chromium, driven by Playwright, against the server on
loopback. It walks the whole flow a mission runs (first admin, users, plan edit, review, sign-off, brief, French)
and proves that no request leaves the machine.
Screenshots are kept in ``test-artifacts/browser/``."""

from __future__ import annotations

import contextlib
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
from playwright.sync_api import Locator, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from pyproj import Transformer

from planner.assess import assess
from planner.dashboard.deck import PALETTE, PAPER
from planner.observed import zones_of
from planner.plan import open_plan
from planner.record import Record, User
from planner.record.harm import HarmLog
from planner.vocabulary import MIN_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "browser"
PASSWORD = "correct horse battery"
LOCAL_SCHEMES = ("data", "blob", "about")  # made in the page, never fetched
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
    """The dashboard served on loopback over a copy of the sample and an empty record, with the mission's
    offline basemap configured."""
    with serving(tmp_path, basemap=True) as served:
        yield served


@contextlib.contextmanager
def serving(folder: Path, *, basemap: bool) -> Iterator[dict[str, Any]]:
    for name in ("scenarios", "layers", "data/sample"):
        shutil.copytree(ROOT / name, folder / name)
    settings = folder / "mission.toml"
    settings.write_text('[dashboard]\ndata_dirs = ["scenarios", "layers", "data"]\n')
    if basemap:
        write_mbtiles(folder / "basemap.mbtiles")  # the mission's offline basemap, served from this machine
        settings.write_text(settings.read_text() + 'basemap = "basemap.mbtiles"\n')
    record = Record.open(f"sqlite:///{folder / 'record.db'}")
    port = free_port()
    temporary = folder / "tmp"  # the server's temporary files, to see that it leaves none
    temporary.mkdir()
    env = {**os.environ, "PRIMUM_DB": str(folder / "record.db"), "PRIMUM_SETTINGS": str(settings)}
    env["TMPDIR"] = str(temporary)
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(port, process)
        yield {"url": f"http://127.0.0.1:{port}", "record": record, "plan": folder / "scenarios" / "sample.yaml"}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    # A stopped server leaves no session's folder behind: uploads may hold sources and witnesses
    assert not list(temporary.glob("primum-sessions-*")), "the sessions' folder outlived the server"


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


def keyed(page: Page, key: str, inner: str = "input") -> Locator:
    """The widget Streamlit drew for ``key`` (its container carries the class ``st-key-KEY``)."""
    return page.locator(f".st-key-{key} {inner}").first


def choose(page: Page, key: str, option: str) -> None:
    """Pick ``option`` in the select box of ``key``: open it, click the option."""
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(5):  # a rerun still drawing the page may close the list as it opens
        keyed(page, key, "[role=combobox]").click()
        try:
            wanted.wait_for(timeout=5_000)
            wanted.click()
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    pytest.fail(f"the option {option!r} of {key} never showed")


def sign_in(page: Page, name: str) -> None:
    page.get_by_role("link", name="Sign in").click()
    keyed(page, "signin_name").fill(name)
    keyed(page, "signin_password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text(f"Signed in as {name}").first.wait_for(timeout=60_000)


def visit(page: Page, link: str, ready: Locator, user: str) -> None:
    """Open the page behind ``link`` as ``user`` and wait for ``ready``. Under load the browser may lose its
    Streamlit session (the socket drops, the page reloads), which signs the user out as any reload does; the
    user then signs in again, as they would, and the page is opened once more."""
    signed_out = page.get_by_text("Not signed in: viewing only").first
    for _ in range(3):
        page.get_by_role("link", name=link).click()
        ready.or_(signed_out).first.wait_for(timeout=60_000)
        if ready.first.is_visible():
            return
        sign_in(page, user)
    pytest.fail(f"the page {link!r} never opened signed in as {user}")


def sign_out(page: Page) -> None:
    page.get_by_role("link", name="Sign in").click()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)


def test_the_whole_flow_in_chromium_with_no_request_leaving_loopback(server: dict[str, Any]) -> None:
    """First admin, users, a plan edit previewed on the map, a bulk review of one COA through a conflict, the
    commander's confirmed decision on that COA, the brief downloaded, French, and the offline basemap."""
    chromium = debian_tool("chromium", "chromium")
    record: Record = server["record"]
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()
        try:
            # 1. First run: the record has no users; the first admin is created, then the sign-in form shows
            page.goto(server["url"] + "/signin")
            page.get_by_text("The record has no users yet").wait_for(timeout=60_000)
            page.get_by_text(f"At least {MIN_PASSWORD} characters.").first.wait_for()  # the rule, said up front
            keyed(page, "new_user_name").fill("admin-1")
            keyed(page, "new_user_password").fill(PASSWORD)
            page.get_by_role("button", name="Add a user").click()
            page.get_by_text("Sign in with it below.").wait_for(timeout=60_000)
            keyed(page, "signin_name").wait_for(timeout=60_000)
            assert page.get_by_text("The record has no users yet").count() == 0
            shot(page, "1-first-admin")
            keyed(page, "signin_name").fill("admin-1")
            keyed(page, "signin_password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("Signed in as admin-1 (admin)").first.wait_for(timeout=60_000)

            # 2. Users: the admin adds the PoC adviser on the page and sees every user listed
            keyed(page, "new_user_name").fill("adviser-1")
            choose(page, "new_user_role", "PoC adviser")
            keyed(page, "new_user_password").fill(PASSWORD)
            page.get_by_role("button", name="Add a user").click()
            page.get_by_text("Added adviser-1 (PoC adviser)").wait_for(timeout=60_000)
            admin = User("admin-1", "admin")
            planner = record.add_user(admin, "planner-1", "planner", PASSWORD)
            record.add_user(admin, "commander-1", "commander", PASSWORD)
            other = record.add_user(admin, "adviser-2", "poc_adviser", PASSWORD)
            assert {u["name"] for u in record.list_users(admin)} >= {"admin-1", "adviser-1"}
            shot(page, "2-users")

            # 3. A plan edit previewed on the map, then applied: the page says what it did to each COA
            page.get_by_role("link", name="Plan").click()
            position = keyed(page, "el_0_1_position")
            position.wait_for(timeout=60_000)
            position.fill("36NWM6500083000")
            page.get_by_role("button", name="Preview on the map").click()
            page.get_by_text("COA A · lz-1: moved 4.8 km").wait_for(timeout=60_000)
            page.locator("canvas").first.wait_for(timeout=60_000)
            page.get_by_text("Black and grey rings").scroll_into_view_if_needed()
            time.sleep(2)  # deck.gl draws on the next animation frames
            shot(page, "3-plan-preview")
            page.get_by_role("button", name="Apply and assess").click()
            page.get_by_text(re.compile(r"sample-v2\.yaml: COA A: 92 → \d+")).wait_for(timeout=90_000)
            shot(page, "4-plan-applied")
            sign_out(page)

            # 4. The map as the adviser sees it, over the offline basemap
            plan, layers = open_plan(server["plan"])
            ident = record.record_assessment(planner, assess(plan, layers))
            sign_in(page, "adviser-1")
            page.get_by_role("link", name="Map").click()
            canvas = page.locator("canvas").first
            canvas.wait_for(timeout=60_000)
            page.get_by_text("FICTIONAL training area and scenario").wait_for()
            time.sleep(3)  # deck.gl draws on the next animation frames
            shot(page, "5-map")
            _assert_map_drawn_over_basemap(canvas.screenshot())
            canvas.scroll_into_view_if_needed()
            box = canvas.bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.45)  # open ground, no object
            page.mouse.move(box["x"] + box["width"] * 0.1 + 3, box["y"] + box["height"] * 0.45 + 3, steps=3)
            place = re.compile(r"36N WM \d{4} \d{4} · 6\.\d{4}N 33\.\d{4}E \(centre of this")
            page.get_by_text(place).wait_for(timeout=30_000)  # the pointer's place, read anywhere on the map
            first_place = page.get_by_text(place).first.inner_text()
            # Another COA: the browser keeps the squares it has (the same on every COA's map), which still read
            page.locator(".st-key-map_coa").get_by_text("B", exact=True).click()
            page.get_by_text("COA B ·").first.wait_for(timeout=60_000)
            page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.75, steps=3)
            page.get_by_text(place).filter(has_not_text=first_place).first.wait_for(timeout=30_000)

            # 5. Bulk review of COA C; another adviser reviews one of its items meanwhile: a conflict, named
            visit(page, "Checklist review", page.get_by_text(ident).first, "adviser-1")
            interactions = 0
            page.get_by_text("C", exact=True).first.click()
            interactions += 1
            of_c = [i for i in record.status(ident)["items"] if "C" in i["coas"]]
            tick_all = page.get_by_text("items shown and yours to review")
            for _ in range(120):  # until the rerun for COA C has replaced COA A's form
                if tick_all.all_inner_texts() == [f"All {len(of_c)} items shown and yours to review"]:
                    break
                time.sleep(0.5)
            record.review(other, ident, of_c[0]["key"], status="accepted_risk", note="weighed with the planner")
            tick_all.click()
            interactions += 1
            form = page.get_by_test_id("stForm").filter(has_text="Apply to the selection")
            # "addressed" is the bulk form's first status: nothing to choose
            form.get_by_label("Note (required").fill("checked in the browser")
            form.get_by_role("button", name="Apply to the selection").click()
            interactions += 2
            page.get_by_text(f"Refused, changed by someone else since you saw them: {of_c[0]['key']}").wait_for(
                timeout=60_000
            )
            shot(page, "6-conflict")
            form.get_by_role("button", name="Apply to the selection").click()  # read, and overwritten on purpose
            interactions += 1
            page.get_by_text(f"{len(of_c)} item(s) saved.").wait_for(timeout=60_000)  # the first saved one fewer
            assert interactions <= 15
            reviewed = [i for i in record.status(ident)["items"] if "C" in i["coas"]]
            assert all(i["status"] == "addressed" and i["history"][-1]["by"] == "adviser-1" for i in reviewed)
            assert [h["by"] for h in reviewed[0]["history"]][-2:] == ["adviser-2", "adviser-1"]
            shot(page, "7-reviewed")
            sign_out(page)

            # 6. The commander decides on COA C: nothing is recorded until the decision is confirmed
            sign_in(page, "commander-1")
            visit(page, "Sign-off and outputs", page.get_by_role("button", name="Sign", exact=True), "commander-1")
            choose(page, "decision_coa", "C")
            page.get_by_role("button", name="Sign", exact=True).click()
            page.get_by_text("Tick the confirmation first; nothing was recorded").wait_for(timeout=60_000)
            assert record.status(ident)["signoff"] is None
            page.get_by_text("I confirm this decision").click()
            page.get_by_role("button", name="Sign", exact=True).click()
            page.get_by_text(re.compile(r"VALID: approved · COA C · commander-1")).wait_for(timeout=60_000)
            signed = record.status(ident)["signoff"]
            assert signed["decision"] == "approve" and signed["coa"] == "C" and signed["valid"]
            shot(page, "8-signed")

            # 7. The brief, downloaded: it carries the decision
            text = _download(page, "brief.html")
            assert "commander-1" in text and ident in text

            # 8. Harm after the operation, taken in on screen: listed, placed in the cordon's core, drawn on the map
            result = record.assessment_result(ident)
            cordon = next(z for z in zones_of(result, "C") if z.element == "cordon-3").geometry.centroid
            lon, lat = Transformer.from_crs(result["working_crs"], "EPSG:4326", always_xy=True).transform(
                cordon.x, cordon.y
            )
            intake = page.get_by_text("Take in a report of harm")
            visit(page, "Harm after operations", intake, "commander-1")
            intake.click()
            choose(page, "intake_coa", "C")
            keyed(page, "intake_at").fill("2026-12-03T09:30+03:00")
            keyed(page, "intake_position").fill(f"{lat:.6f}N {lon:.6f}E")
            keyed(page, "intake_injuries").fill("2-4")
            page.get_by_role("button", name="Record the harm").click()
            page.get_by_text(re.compile(r"Harm recorded as HR-")).wait_for(timeout=60_000)
            [harm] = HarmLog(record).records(ident)
            assert (harm["coa"], harm["injuries"]) == ("C", [2, 4])
            page.get_by_text("Where harm fell").wait_for(timeout=60_000)
            page.locator("canvas").first.wait_for(timeout=60_000)
            time.sleep(2)
            shot(page, "8b-harm")

            # 9. French, on the same session
            page.locator(".st-key-lang").get_by_text("Français").click()
            page.get_by_role("link", name="Carte").click()
            page.get_by_text(re.compile(r"^MA A · ")).first.wait_for(timeout=60_000)
            page.get_by_text("Connecté : commander-1").first.wait_for()
            time.sleep(1)
            shot(page, "9-french-map")

            # 10. Every page keeps its address: a deep link opens it, and the root opens the map
            page.goto(server["url"] + "/compare")
            page.get_by_role("heading", name="Compare courses of action").wait_for(timeout=60_000)
            assert "Page not found" not in page.content()
            page.goto(server["url"] + "/map")
            page.get_by_role("heading", name="Map").wait_for(timeout=60_000)
            assert "Page not found" not in page.content()
            shot(page, "10-deep-link")
        finally:
            shot(page, "last")  # what the browser showed when the test ended, failed or not
            (ARTIFACTS / "last.html").write_text(page.content(), encoding="utf-8")
            browser.close()

    outside = sorted(
        {u for u in requests if urlparse(u).scheme not in LOCAL_SCHEMES and urlparse(u).hostname != "127.0.0.1"}
    )
    assert not outside, f"requests left the machine: {outside}"
    tiles = [u for u in requests if re.search(r"^http://127\.0\.0\.1:\d+/\d+/\d+/\d+$", u)]
    assert tiles, "no basemap tile was asked for"
    assert len(requests) > 20  # the recording saw the page load


def test_without_a_basemap_the_map_is_drawn_and_nothing_is_fetched(tmp_path: Path) -> None:
    """Most missions bring no basemap: the map is drawn on paper colour with no map library under it, and no
    request leaves the machine (Streamlit's map component falls back to Carto's basemap when a style is merely
    left empty)."""
    chromium = debian_tool("chromium", "chromium")
    requests: list[str] = []
    with serving(tmp_path, basemap=False) as served, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.on("request", lambda request: requests.append(request.url))
        try:
            page.goto(served["url"] + "/map")
            canvas = page.locator("canvas").first
            canvas.wait_for(timeout=60_000)
            page.evaluate(IDLE)
            shot(page, "no-basemap-map")
            pixels = imread(io.BytesIO(canvas.screenshot()), format="png")[..., :3]
            assert len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 50, "the map is blank"
            assert page.locator("canvas").count() == 1, "a map library draws under the layers"  # the deck's alone
            paper = np.all(np.abs(pixels * 255 - np.array(PAPER[:3])) < 3, axis=-1).mean()
            assert paper > 0.01, "the map is not laid on its paper colour"
            box = canvas.bounding_box()  # with no map library under it, the layers alone answer the pointer
            assert box is not None
            page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.45)
            page.mouse.move(box["x"] + box["width"] * 0.1 + 3, box["y"] + box["height"] * 0.45 + 3, steps=3)
            place = re.compile(r"36N WM \d{4} \d{4} · 6\.\d{4}N 33\.\d{4}E \(centre of this")
            page.get_by_text(place).wait_for(timeout=30_000)
        finally:
            browser.close()
    outside = {u for u in requests if urlparse(u).scheme not in LOCAL_SCHEMES and urlparse(u).hostname != "127.0.0.1"}
    assert not outside, f"requests left the machine: {sorted(outside)}"


# Resolves once the page has drawn two frames and its main thread is idle: the map is drawn, not merely placed
IDLE = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => requestIdleCallback(r))))"


def _download(page: Page, button: str) -> str:
    """The text of the file a download button gives. The file is made when clicked; a click that lands while
    the page is still being redrawn is lost, so it is clicked again."""
    for _ in range(3):
        try:
            with page.expect_download(timeout=30_000) as download:
                page.get_by_role("button", name=button).click()
            return Path(download.value.path()).read_text(encoding="utf-8")
        except PlaywrightTimeout:
            continue
    pytest.fail(f"{button} gave no file")


def _assert_map_drawn_over_basemap(png: bytes) -> None:
    pixels = imread(io.BytesIO(png), format="png")[..., :3]
    colours = np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50, "the map canvas is blank"
    # Risk cells: vermillion laid over the basemap at some opacity, i.e. on the line from teal to vermillion
    teal_rgb, vermillion = np.array(TEAL) / 255, np.array(PALETTE["risk"]) / 255
    along = np.clip(((pixels - teal_rgb) @ (vermillion - teal_rgb)) / np.sum((vermillion - teal_rgb) ** 2), 0, 1)
    blend = teal_rgb + along[..., None] * (vermillion - teal_rgb)
    risk = ((np.linalg.norm(pixels - blend, axis=-1) < 0.06) & (along > 0.3)).mean()
    assert risk > 0.002, "no risk cell drawn"
    teal = np.all(np.abs(pixels * 255 - np.array(TEAL)) < 12, axis=-1).mean()
    assert teal > 0.05, "the offline basemap is not drawn under the layers"
