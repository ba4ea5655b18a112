"""The explorer as a user meets it: ``python -m sim explore`` on a loopback port, in headless Chromium.

The browser test starts the real command, opens the page in Debian's Chromium (through Selenium and
Debian's chromedriver; nothing is downloaded), steps the model, moves a lever and checks that the charts
change, and saves screenshots under the test's temporary folder. It skips, saying why, only if Chromium or
chromedriver is not installed (``.ci/run`` installs both). The views' figures and the Reset path are tested
without a browser too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1600,1800",
)


# ---------------------------------------------------------------- without a browser
def test_reset_rebuilds_the_same_scenario_and_levers():
    from sim.inputs.scenario import load_scenario
    from sim.pictures import explorer

    model = explorer.build_model(load_scenario(ROOT / "scenarios" / "baseline.toml"), [1, 2, 3], year=2016)
    assert model.year == 2016 and model.n_batch == 3
    changed = explorer.with_lever(model, "policy.publicity", 2.0)
    assert changed.year == 2016 and explorer.lever_changes(changed.spec) == {"policy.publicity": 2.0}
    # SolaraViz's Reset: type(model)(scenario=type(model.scenario)(), **fixed model_params)
    reset = type(changed)(scenario=type(changed.scenario)(), seeds=changed.seeds)
    assert reset.year == reset.start_year
    assert explorer.lever_changes(reset.spec) == {"policy.publicity": 2.0}
    assert reset.spec.name == changed.spec.name == "baseline"


def test_every_offered_scenario_file_opens_at_the_year_reached():
    from sim.inputs.scenario import load_scenario
    from sim.pictures import explorer

    model = explorer.build_model(load_scenario(ROOT / "scenarios" / "baseline.toml"), [1, 2], year=2016)
    files = explorer.scenario_files()
    assert {p.stem for p in files} >= {"baseline", "duty_to_consider", "mutual_friendly_government"}
    for path in files:
        other = explorer.with_file(model, path)
        assert other.spec.path.resolve() == path.resolve() and other.year == 2016 and other.seeds == [1, 2]
    duty = explorer.with_file(model, ROOT / "scenarios" / "duty_to_consider.toml")
    assert explorer.lever_changes(duty.spec).get("policy.duty_to_consider") is True


def test_a_plain_mesa_scenario_gives_the_baseline():
    import mesa

    from sim.model import DivestmentModel

    model = DivestmentModel(scenario=mesa.experimental.scenarios.Scenario(), seed=3)
    assert model.spec.name == "baseline"
    assert model.national().equals(DivestmentModel(seed=3).national())


def test_mesa_batch_run_takes_the_model_as_it_is():
    import multiprocessing

    import mesa
    import pandas as pd

    from sim.model import DivestmentModel

    method = multiprocessing.get_start_method(allow_none=True)
    try:
        rows = mesa.batch_run(
            DivestmentModel,
            parameters={"record_councils": [False]},
            rng=[5, 6],
            max_steps=1000,  # Mesa's default: the model stops itself at its end year
            data_collection_period=1,
            display_progress=False,
        )
    finally:  # batch_run forces the "spawn" start method on the whole process: put it back
        multiprocessing.set_start_method(method, force=True)
    table = pd.DataFrame(rows)
    alone = DivestmentModel(seed=6, record_councils=False).run().national()
    got = table[table["seed"] == 6].sort_values("year")
    assert got["year"].tolist() == alone["year"].tolist()
    assert np.allclose(got["mutual_staff"], alone["mutual_staff"])
    assert np.allclose(got["share_of_target"], alone["share_of_target"])


def test_views_change_with_the_year_and_the_levers():
    from sim.inputs.scenario import load_scenario
    from sim.pictures import explorer

    model = explorer.build_model(load_scenario(ROOT / "scenarios" / "baseline.toml"), list(range(6)), 2017)

    def pixels(fig):
        import io

        import matplotlib.image

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=60)
        buffer.seek(0)
        return matplotlib.image.imread(buffer)

    views = {
        "workforce": explorer.workforce_panel,
        "modes": explorer.modes_panel,
        "map": lambda m: explorer.map_panel(m, "libraries"),
    }
    before = {name: pixels(view(model)) for name, view in views.items()}
    later = explorer.build_model(model.spec, model.seeds, 2019)
    lever = explorer.with_lever(model, "policy.publicity", 3.0)
    for name, view in views.items():
        assert pixels(view(later)).shape == before[name].shape
        assert not np.array_equal(pixels(view(later)), before[name]), f"{name} did not change with the year"
        assert not np.array_equal(pixels(view(lever)), before[name]), f"{name} did not change with the lever"
    now = explorer.councils_now(model)
    assert set(now["year"]) == {2017} and len(now) == 6 * model.slots.n
    log = explorer.decision_log(model, "E10000029")  # Suffolk: its library mutual is in the 2014 stock
    assert {"year", "service", "from_mode", "to_mode", "reason"} <= set(log.columns)
    assert ((log["service"] == "libraries") & (log["to_mode"] == "mutual")).any()


# ---------------------------------------------------------------- in the browser
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def explorer_url():
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "sim", "explore", "--port", str(port), "--replications", "8"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the explorer did not start on {url} (exit code {server.poll()})")
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server we started, and its solara child
        server.wait(timeout=30)


@pytest.fixture
def browser(tmp_path):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        pytest.skip(
            f"no browser to test in: {missing} not installed (apt-get install chromium chromium-driver)"
        )
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium must not try to download a driver or browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def _wait(condition, timeout: float = 60.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception:  # noqa: BLE001  (the page is re-rendering: try again)
            value = None
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


CHART_HASHES = """
const done = arguments[arguments.length - 1];
const images = [...document.images].filter((i) => i.src.startsWith("blob:") || i.src.startsWith("data:"));
Promise.all(images.map((i) => fetch(i.src).then((r) => r.arrayBuffer()).then((b) => {
  const a = new Uint8Array(b);
  let h = 0;
  for (let k = 0; k < a.length; k++) { h = (h * 31 + a[k]) | 0; }
  return `${a.length}:${h}`;
}))).then(done, () => done(null));
"""
"""Page script: a hash of each chart's picture (the images are blob URLs), in page order."""


def _charts(driver) -> list[str]:
    """A fingerprint of each chart on the page (length and hash of its PNG bytes), in page order."""
    return driver.execute_async_script(CHART_HASHES) or []


def _button(driver, text: str):
    from selenium.webdriver.common.by import By

    return next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip().upper() == text)


def test_explorer_answers_a_step_and_a_lever_in_the_browser(explorer_url, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(explorer_url)
    first = _wait(lambda: len(_charts(browser)) == 3 and _charts(browser), 90, "the three charts")
    assert "Scenario and levers" in browser.find_element(By.TAG_NAME, "body").text
    browser.save_screenshot(str(tmp_path / "explorer-start.png"))

    def changed(before):
        charts = _charts(browser)
        return len(charts) == 3 and all(c != b for c, b in zip(charts, before, strict=True)) and charts

    stepped = first
    for _ in range(3):  # to 2017-18: decisions take a year or more to go live, so levers show after a lag
        _button(browser, "STEP").click()
        stepped = _wait(lambda b=stepped: changed(b), 60, "all three charts to change with a step")
    _wait(lambda: "2017-18" in browser.find_element(By.TAG_NAME, "body").text, 30, "the year 2017-18")

    def publicity_thumb():
        path = "//label[starts-with(normalize-space(.), 'publicity and peer networks')]"
        label = browser.find_element(By.XPATH, path)
        box = label.find_element(By.XPATH, "./ancestor::div[contains(@class, 'v-input')][1]")
        return box.find_element(By.CSS_SELECTOR, "[role='slider']")

    assert publicity_thumb().get_attribute("aria-valuenow") == "1"
    for _ in range(5):  # five steps of 0.1: publicity x1 -> x1.5
        now = publicity_thumb().get_attribute("aria-valuenow")
        publicity_thumb().send_keys(Keys.ARROW_RIGHT)
        _wait(
            lambda now=now: publicity_thumb().get_attribute("aria-valuenow") != now, 30, "the slider to move"
        )
    _wait(lambda: publicity_thumb().get_attribute("aria-valuenow") == "1.5", 30, "publicity at 1.5")
    body = _wait(
        lambda: (
            "publicity and peer networks x1.5" in (t := browser.find_element(By.TAG_NAME, "body").text) and t
        ),
        60,
        "the lever change to reach the model",
    )
    assert "2017-18" in body  # the rebuilt model was stepped to the year reached
    moved = _wait(
        lambda: (c := _charts(browser)) and len(c) == 3 and c[0] != stepped[0] and c, 60, "new charts"
    )
    assert moved[0] != stepped[0], "the workforce chart did not change with the lever"
    browser.save_screenshot(str(tmp_path / "explorer-after-lever.png"))

    _button(browser, "RESET").click()  # SolaraViz's own Reset: back to 2014-15, the levers kept
    _wait(lambda: "2014-15;" in browser.find_element(By.TAG_NAME, "body").text, 60, "the reset to 2014-15")
    assert "peer networks x1.5" in browser.find_element(By.TAG_NAME, "body").text
    shots = sorted(p.name for p in tmp_path.glob("explorer-*.png"))
    assert shots == ["explorer-after-lever.png", "explorer-start.png"]
    assert all((tmp_path / s).stat().st_size > 20_000 for s in shots)
