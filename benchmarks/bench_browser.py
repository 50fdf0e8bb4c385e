"""What a user waits for in the dashboard, measured in a real browser (Debian's Chromium, headless).

    python benchmarks/bench_browser.py            # 5 new sessions on the sample, medians

Starts the dashboard on loopback over a copy of the sample (its cache warmed by one visit first, as on a
server already in use), then for each run opens a new browser session on the map and measures, from the
click (the pointer pressed on the control, as the page sees it; Playwright's own checks before it presses are
not counted) to the page at rest again (Streamlit's running indicator gone, what the change shows on screen).
"Drawn" is a round of two frames and the main thread idle that passes with no WebGL draw call in it: the
draw calls only queue the work, and with software WebGL the frame that shows it comes later.

- first map: from opening the dashboard's address (the root, as the README says; it opens on the map) to the
  map drawn (a canvas is placed before deck.gl has built its layers; a click then waits for them) (target 3 s).
  A deep link to ``/map`` costs about 0.14 s more: Streamlit's page looks for its server under ``/map/`` first.
- change of COA on the map (target 0.5 s), from a page at rest: timed in the page from the click to the end of
  the rerun, and to the new map drawn, which is what the user waits for (with software WebGL, as here, the
  drawing is most of it); the session's first change, then the median of its next three (the browser's code
  for a changed map has then run once);
- heatmap switched on (target 0.5 s), the same two ways;
- an adviser's review saved on the checklist page (target 0.5 s), to the end of the rerun;
- with the real layers at ``../shared/realdata`` beside the checkout: the first map of Juba's real-data plan
  (``tests/scenarios/juba_poc.yaml``) and a change to its cordon COA and back, the same ways;
- each step on the map against the same step in a page of its own (``reference_map.py``: the same maps, a radio
  of the COAs, a toggle for the population layer and one ``st.pydeck_chart`` call, what a skilled user would
  write with Streamlit and pydeck), its sessions taken in turn with the dashboard's: the ratio is what the
  dashboard adds to what Streamlit, deck.gl and the browser's WebGL cost.

Nothing is asserted: the numbers are printed with their targets, for the closing note of a change.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.assess import assess  # noqa: E402
from planner.plan import open_plan  # noqa: E402
from planner.record import Record  # noqa: E402

PASSWORD = "correct horse battery"
# What the user waits for, in seconds, in the order a session meets them: the steps on the map (which the
# reference page takes too), then the review
MAP_TARGETS = {
    "first map": 3.0,
    "COA changed, rerun": 0.5,
    "COA changed, drawn": 0.5,
    "COA changed again, drawn": 0.5,
    "heatmap on, rerun": 0.5,
    "heatmap on, drawn": 0.5,
}
TARGETS = {**MAP_TARGETS, "review saved": 0.5}
# The same over real layers (Juba's roads, sites and population), when they are there
JUBA_TARGETS = {"Juba first map": 3.0, "Juba COA changed, drawn": 0.5, "Juba COA changed again, drawn": 0.5}
REALDATA = ROOT.parent / "shared" / "realdata"
JUBA_PLAN = ROOT / "tests" / "scenarios" / "juba_poc.yaml"
FLAGS = ["--no-sandbox", "--disable-background-networking", "--enable-unsafe-swiftshader", "--use-angle=swiftshader"]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(
    folder: Path, data_dirs: list[Path] | None = None, *, reference: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """The dashboard over a copy of the sample, or over ``data_dirs`` as they are (real layers are not copied);
    or, given a plan as ``reference``, the reference page of that plan's first map (``reference_map.py``)."""
    if data_dirs is None:
        for name in ("scenarios", "layers", "data/sample"):
            shutil.copytree(ROOT / name, folder / name)
        data_dirs = [Path("scenarios"), Path("layers"), Path("data")]
    settings = folder / "mission.toml"
    settings.write_text(f"[dashboard]\ndata_dirs = {json.dumps([str(d) for d in data_dirs])}\n")
    env = {**os.environ, "PRIMUM_DB": str(folder / "record.db"), "PRIMUM_SETTINGS": str(settings)}
    script = "app.py"
    if reference is not None:
        env["PRIMUM_REFERENCE_PLAN"] = str(reference)
        script = str(Path("benchmarks") / "reference_map.py")
    port = _port()
    command = [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit("the dashboard did not start")


# The end of a rerun: the app's script state leaving "running", read from each change's old value (not the
# attribute as it is when the observer runs). React may render "running" and its end in one go when a rerun is
# quick, so that the page never shows it (a review saved, measured at 0.08 s, was then never seen to end): a
# rerun expected to show a text (the new COA's headline, the population layer's legend, the review's "Saved")
# also ends when that text is on the page and nothing runs.
WATCH = """(expect) => {
    window.__done = null;
    window.__pressed = null;
    document.addEventListener('pointerdown', () => { window.__pressed = performance.now(); },
        { capture: true, once: true });
    let ran = false;
    const app = document.querySelector('[data-testid="stApp"]');
    new MutationObserver((changes) => {
        if (window.__done !== null) { return; }
        ran = ran || changes.some((c) => c.type === 'attributes' && c.oldValue === 'running');
        const resting = app.getAttribute('data-test-script-state') !== 'running';
        const shown = expect !== null && document.body.textContent.includes(expect);
        if (resting && (expect === null ? ran : shown)) { window.__done = performance.now(); }
    }).observe(document.body, {
        subtree: true, childList: true, characterData: true,
        attributes: true, attributeFilter: ['data-test-script-state'], attributeOldValue: true,
    });
    return performance.now();
}"""


# Counts the page's WebGL draw calls (deck.gl's and the base map's), from before the page's own scripts run, and
# keeps the context that drew last
COUNT_DRAWS = """(() => {
    window.__draws = 0;
    for (const context of [WebGLRenderingContext, WebGL2RenderingContext]) {
        for (const name of ['drawArrays', 'drawElements', 'drawArraysInstanced', 'drawElementsInstanced',
                            'drawRangeElements']) {
            const original = context.prototype[name];
            if (!original) { continue; }
            context.prototype[name] = function (...args) {
                window.__draws++;
                window.__drawing = this;
                return original.apply(this, args);
            };
        }
    }
})();"""

# Resolves, with the page's clock, once the page has made a draw call beyond the first ``since`` and then a round
# of two frames drawn and the main thread idle has passed with no draw call in it. The draw calls only queue the
# work: with software WebGL the frames that show it come after, and a round that began before the last call can
# end before its frame is shown (measured: 0.31 s, where the map came on screen at 0.66 s); and the map may
# take its new layers a few frames after the rerun has ended. Even two frames are sometimes not enough (a
# COA change seen drawn at 0.26 s, whose drawing the GPU finished at 0.35 s), so the round is followed by
# reading one pixel back from the context that drew: that waits until the GPU has done all the drawing asked of
# it. Bounded: a page that never draws, or draws on every frame, is taken as it is after 50 rounds.
SETTLED = """async (since) => {
    const round = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() =>
        requestIdleCallback(() => r(performance.now())))));
    for (let rounds = 0; window.__draws <= since && rounds < 50; rounds++) { await round(); }
    let seen = window.__draws;
    await round();
    for (let rounds = 1; window.__draws !== seen && rounds < 50; rounds++) {
        seen = window.__draws;
        await round();
    }
    const gl = window.__drawing;
    if (gl) { gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4)); }
    return performance.now();
}"""


def _new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(COUNT_DRAWS)
    return context.new_page()


def _rerun(page: Page, action: Callable[[], None], shows: str | None = None) -> float:
    """Seconds from ``action`` to the end of the rerun it causes, timed by the page itself (the app's script
    state going from running back to rest), so that no polling interval is counted."""
    start, done = _pressed_and_done(page, action, shows)
    return (done - start) / 1000


def _rerun_and_drawn(page: Page, action: Callable[[], None], shows: str | None = None) -> tuple[float, float]:
    """Seconds from ``action``, taken on a page at rest, to the end of the rerun it causes and to what it
    changed drawn (``SETTLED``), both timed by the page itself."""
    page.evaluate(SETTLED, -1)  # the last action's drawing is not this one's
    before = int(page.evaluate("window.__draws"))
    start, done = _pressed_and_done(page, action, shows)
    drawn = float(page.evaluate(SETTLED, before))
    return (done - start) / 1000, (drawn - start) / 1000


def _pressed_and_done(page: Page, action: Callable[[], None], shows: str | None) -> tuple[float, float]:
    """The page's clock when ``action`` pressed the pointer and when the rerun it caused ended. Playwright's
    checks before it presses (the element visible, and still over two frames) took about 85 ms, which no user
    waits for."""
    page.evaluate(WATCH, shows)
    action()
    page.wait_for_function("window.__done !== null", timeout=120_000)
    start, done = page.evaluate("[window.__pressed, window.__done]")
    return float(start), float(done)


def _change_coa(page: Page, coa: str) -> tuple[float, float]:
    """The map's COA changed: until its headline ("COA B · ...") is shown, and until the new map is drawn."""
    return _rerun_and_drawn(page, page.get_by_text(coa, exact=True).first.click, f"COA {coa} ·")


def _at_rest(page: Page) -> None:
    """Wait until Streamlit has finished the rerun the last action started."""
    status = page.get_by_test_id("stStatusWidget")
    with contextlib.suppress(PlaywrightTimeout):  # a rerun shorter than a frame never shows the indicator
        status.wait_for(state="visible", timeout=1_000)
    status.wait_for(state="hidden", timeout=120_000)


def _timed(action: Callable[[], None]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _first_map(page: Page, url: str) -> float:
    """Seconds from opening the page at ``url`` to its first map drawn; then waits for the page to be at rest."""
    first = _timed(lambda: (page.goto(url), page.locator("canvas").first.wait_for(), page.evaluate(SETTLED, 0)))
    _at_rest(page)
    return first


def _map_steps(page: Page, url: str) -> tuple[float, ...]:
    """A new session's steps on the map at ``url``: the first map, a COA changed, the next changes, the
    population layer switched on."""
    first = _first_map(page, url)
    coa, coa_drawn = _change_coa(page, "B")
    # the next changes in the session: the browser's code for a changed map has run once (JIT-compiled)
    again = statistics.median(_change_coa(page, c)[1] for c in "CAB")
    heat, heat_drawn = _rerun_and_drawn(page, page.get_by_text("Heatmap").first.click, "population density: darker")
    return first, coa, coa_drawn, again, heat, heat_drawn


def _session(browser: Browser, url: str, key: str, run: int) -> tuple[float, ...]:
    """One new session: the map's steps, then an adviser's review of ``key``."""
    page = _new_page(browser)
    steps = _map_steps(page, url + "/")
    page.get_by_role("link", name="Sign in").click()
    page.locator(".st-key-signin_name input").fill("adviser-1")
    page.locator(".st-key-signin_password input").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as adviser-1").first.wait_for(timeout=60_000)
    page.get_by_role("link", name="Checklist review").click()
    page.get_by_text(key, exact=False).first.click()  # open the item
    _at_rest(page)
    item = page.get_by_test_id("stExpander").filter(has_text=key).first
    item.get_by_label("Note").fill(f"checked in run {run}")
    save = item.get_by_role("button", name="Save")
    saved = _rerun(page, save.click, f"Saved {key} (version")
    page.context.close()
    return *steps, saved


def _juba_steps(page: Page, url: str) -> tuple[float, ...]:
    """A new session's steps on Juba's real-data plan: its first map, then its cordon COA and back, twice."""
    first = _first_map(page, url)
    cordon = _change_coa(page, "CORDON")[1]
    again = statistics.median(_change_coa(page, c)[1] for c in ("LZ", "CORDON", "LZ"))
    return first, cordon, again


def _in_new_page(browser: Browser, steps: Callable[[Page, str], tuple[float, ...]], url: str) -> tuple[float, ...]:
    """``steps`` taken in a new session (a page of its own) at ``url``."""
    page = _new_page(browser)
    try:
        return steps(page, url)
    finally:
        page.context.close()


@contextlib.contextmanager
def _reference(plan: Path) -> Iterator[str]:
    """The reference page of ``plan``'s maps (the same maps alone in a Streamlit page), served meanwhile."""
    with tempfile.TemporaryDirectory() as folder:
        process, url = _serve(Path(folder), [], reference=plan)
        try:
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def _juba(browser: Browser, runs: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """The Juba sessions, over a dashboard whose data folders hold the real-data plan and layers, each followed
    by the same steps on the reference page of the same plan."""
    times: dict[str, list[float]] = {name: [] for name in JUBA_TARGETS}
    alone: dict[str, list[float]] = {name: [] for name in JUBA_TARGETS}
    with tempfile.TemporaryDirectory() as folder, _reference(JUBA_PLAN) as reference_url:
        Record.open(f"sqlite:///{Path(folder) / 'record.db'}")
        process, url = _serve(Path(folder), [ROOT / "tests" / "scenarios", ROOT / "tests" / "manifests", REALDATA])
        try:
            for run in range(runs + 1):  # the first visit warms the server's caches: not counted
                measured = _in_new_page(browser, _juba_steps, url + "/")
                reference = _in_new_page(browser, _juba_steps, reference_url)
                if run:
                    _add(times, measured)
                    _add(alone, reference)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return times, alone


def _add(times: dict[str, list[float]], measured: tuple[float, ...]) -> None:
    """One session's figures, in the order of ``times``' names."""
    for name, value in zip(times, measured, strict=True):
        times[name].append(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    chromium = shutil.which("chromium")
    if chromium is None:
        print("needs Debian's chromium (apt-get install chromium)", file=sys.stderr)
        raise SystemExit(2)  # not a target missed: nothing was measured
    with tempfile.TemporaryDirectory() as folder:
        record = Record.open(f"sqlite:///{Path(folder) / 'record.db'}")
        admin = record.add_user(None, "admin-1", "admin", PASSWORD)
        planner = record.add_user(admin, "planner-1", "planner", PASSWORD)
        record.add_user(admin, "adviser-1", "poc_adviser", PASSWORD)
        process, url = _serve(Path(folder))
        plan, layers = open_plan(Path(folder) / "scenarios" / "sample.yaml")
        ident = record.record_assessment(planner, assess(plan, layers))
        keys = [i["key"] for i in record.status(ident)["items"]]
        times: dict[str, list[float]] = {name: [] for name in TARGETS}
        alone: dict[str, list[float]] = {name: [] for name in MAP_TARGETS}
        try:
            with sync_playwright() as playwright, _reference(Path(folder) / "scenarios" / "sample.yaml") as reference:
                browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
                for run in range(runs + 1):  # the first visit warms the server's caches: not counted
                    measured = _session(browser, url, keys[run % len(keys)], run)
                    # in turn with the dashboard: both see the same machine
                    reference_steps = _in_new_page(browser, _map_steps, reference)
                    if run:
                        _add(times, measured)
                        _add(alone, reference_steps)
                process.terminate()
                process.wait(timeout=30)
                if REALDATA.is_dir():
                    juba, juba_alone = _juba(browser, runs)
                    times.update(juba)
                    alone.update(juba_alone)
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    targets = {**TARGETS, **JUBA_TARGETS}
    print(f"{'what the user waits for':<30} {'median':>8} {'min':>7} {'max':>7}  {'of target':>9}  target")
    for name, values in times.items():
        median = statistics.median(values)
        verdict = "ok" if median <= targets[name] else "OVER"
        print(
            f"{name:<30} {median:7.2f}s {min(values):6.2f}s {max(values):6.2f}s  {median / targets[name]:8.2f}x  "
            f"<= {targets[name]} s  {verdict}"
        )
    print("\nagainst the same maps and steps in a Streamlit page of their own (reference_map.py: what Streamlit,")
    print("deck.gl and this browser's WebGL cost whoever shows them), medians of the sessions taken in turn:")
    for name, values in alone.items():
        mine, reference = statistics.median(times[name]), statistics.median(values)
        print(
            f"{name:<30} {mine:7.2f}s  alone {reference:5.2f}s  {mine / reference:5.2f}x  ({mine - reference:+.2f} s)"
        )
    if not REALDATA.is_dir():
        print(f"(no real layers at {REALDATA}: Juba not measured)")


if __name__ == "__main__":
    main()
