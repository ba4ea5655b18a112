"""The explorer as a user meets it: ``python -m sim explore`` on a loopback port, in headless Chromium.

The browser tests start the real command once (with every network attempt of its process recorded by
``tests/explorer_netlog/sitecustomize.py``), open the page in Debian's Chromium through Selenium and
Debian's chromedriver (nothing is downloaded), and go through it as a first-time user would: load, step,
move a lever, play to the end, pick a council, go back to the start. Each stage takes a screenshot that
is checked for what it must show (its words on the page, its charts drawn in the picture), and the
browser's console must hold no error. Then the server must have tried no connection beyond this machine,
and end on SIGTERM with the browser still connected. They skip, saying why, only if Chromium or
chromedriver is not installed (``.ci/run`` installs both). With ``EXPLORER_SCREENSHOTS=<folder>`` the
screenshots are also kept there (the README's pictures come from ``EXPLORER_SCREENSHOTS=docs/images``).
The views, the tables and the state changes are tested without a browser too.
"""

from __future__ import annotations

import os
import shutil
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
NETLOG_DIR = Path(__file__).resolve().parent / "explorer_netlog"
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
    "--window-size=1500,2300",
)
REPLICATIONS = 4
LOOPBACK = {"127.0.0.1", "::1", "localhost", None, ""}


# ---------------------------------------------------------------- without a browser
@pytest.fixture(scope="module")
def model_2016():
    from sim.inputs.scenario import load_scenario
    from sim.pictures import explorer

    return explorer.build_model(load_scenario(ROOT / "scenarios" / "baseline.toml"), [1, 2, 3], year=2016)


def test_back_to_the_start_keeps_the_levers_and_the_scenario_levers_undo_them(model_2016):
    from sim.pictures import explorer

    assert model_2016.year == 2016 and model_2016.n_batch == 3
    changed = explorer.with_lever(model_2016, "policy.publicity", 2.0)
    assert changed.year == 2016 and explorer.moved_levers(changed) == {"policy.publicity": 2.0}
    again = explorer.restart(changed)
    assert again.year == again.start_year == 2014 and again.seeds == changed.seeds
    assert explorer.moved_levers(again) == {"policy.publicity": 2.0}
    undone = explorer.scenario_levers(changed)
    assert undone.year == 2016 and explorer.moved_levers(undone) == {}
    assert undone.national().equals(model_2016.national())  # the same model as before the lever moved


def test_every_offered_scenario_file_opens_at_the_year_reached(model_2016):
    from sim.pictures import explorer

    files = explorer.scenario_files()
    assert {p.stem for p in files} >= {"baseline", "duty_to_consider", "mutual_friendly_government"}
    for path in files:
        other = explorer.with_file(model_2016, path)
        assert other.spec.path.resolve() == path.resolve() and other.year == 2016 and other.seeds == [1, 2, 3]
        assert explorer.moved_levers(other) == {}  # a file's own levers are not "moved"
    duty = explorer.with_file(model_2016, ROOT / "scenarios" / "duty_to_consider.toml")
    assert explorer.lever_changes(duty.spec).get("policy.duty_to_consider") is True


def test_a_lever_set_back_to_its_default_stays_there_when_another_moves(model_2016):
    from sim.pictures import explorer

    duty = explorer.with_file(model_2016, ROOT / "scenarios" / "duty_to_consider.toml")
    off = explorer.with_lever(duty, "policy.duty_to_consider", False)  # the registry's default
    both = explorer.with_lever(off, "policy.publicity", 2.0)
    assert (
        both.spec.params["policy.duty_to_consider"] is False and both.spec.params["policy.publicity"] == 2.0
    )
    assert explorer.moved_levers(both) == {"policy.duty_to_consider": False, "policy.publicity": 2.0}
    assert both.spec.name == "duty-to-consider with 2 levers moved"


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


def _pixels(fig):
    import io

    import matplotlib.image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    buffer.seek(0)
    return matplotlib.image.imread(buffer)


def test_views_draw_from_the_first_year_and_change_with_the_year_and_the_levers(model_2016):
    from sim.pictures import explorer, explorer_views

    first = explorer.restart(model_2016)
    views = {
        "workforce": explorer_views.workforce_panel,
        "modes": explorer_views.modes_panel,
        "map": lambda m: explorer_views.map_panel(m, "libraries"),
    }
    # the first year draws: its points and bars, not empty axes
    fig = explorer_views.workforce_panel(first)
    left, right = fig.axes
    assert all(len(line.get_xdata()) == 1 and line.get_marker() == "o" for line in left.lines)
    assert any(line.get_ydata()[0] == 1_000_000 for line in right.lines)  # the one-million line
    modes = explorer_views.modes_panel(first)
    assert all(sum(p.get_height() for p in ax.patches) == pytest.approx(100) for ax in modes.axes)
    before = {name: _pixels(view(model_2016)) for name, view in views.items()}
    later = explorer.build_model(model_2016.spec, model_2016.seeds, 2019)
    lever = explorer.with_lever(model_2016, "policy.publicity", 3.0)
    for name, view in views.items():
        assert not np.array_equal(_pixels(view(later)), before[name]), f"{name} did not change with the year"
        assert not np.array_equal(_pixels(view(lever)), before[name]), f"{name} did not change with the lever"
    now = explorer.councils_now(model_2016)
    assert set(now["year"]) == {2016} and len(now) == 3 * model_2016.slots.n


def test_views_text_is_readable_and_year_labels_do_not_run_together(model_2016):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    from sim.pictures import explorer_views

    for view in (explorer_views.workforce_panel, explorer_views.modes_panel):
        fig = view(model_2016)
        renderer = FigureCanvasAgg(fig).get_renderer()
        fig.draw(renderer)  # lays the figure out
        texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() < 8]
        assert small == [], f"{view.__name__}: text under 8 pt: {small}"
        for ax in fig.axes:
            boxes = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
            assert len(boxes) >= 2
            for a, b in zip(boxes, boxes[1:], strict=False):
                assert a.x1 < b.x0, f"{view.__name__}: year labels run together on {ax.get_title()!r}"


def test_council_view_gives_parts_and_decisions_with_reasons_and_scores(model_2016):
    from sim.pictures import explorer_views

    parts = explorer_views.council_parts(model_2016, "E10000029")  # Suffolk: libraries and adult social care
    assert set(parts["service"]) == {"libraries", "adult social care"}
    assert len(parts) == len(model_2016.slots_of("E10000029", 0)) + len(model_2016.slots_of("E10000029", 1))
    log = explorer_views.council_decisions(model_2016, "E10000029")
    raw = model_2016.decisions_frame(r=0)
    raw = raw[raw["ons_code"] == "E10000029"].reset_index(drop=True)
    assert len(log) == len(raw) > 0
    assert set(log["why"]) <= set(explorer_views.REASONS.values())  # every reason in words
    appraised = raw["reason"].isin(["review", "proposal"])
    assert appraised.any()
    for (_, row), text in zip(
        raw[appraised].iterrows(), log.loc[appraised, "scores, highest first"], strict=True
    ):
        scores = {o: row[f"score_{o}"] for o in explorer_views.OPTIONS if np.isfinite(row[f"score_{o}"])}
        best = max(scores, key=scores.get)
        assert text.startswith(f"{explorer_views.option_label(best)} {scores[best]:.2f}")  # the one taken
        assert text.count(";") == len(scores) - 1
    assert (log.loc[~appraised, "scores, highest first"] == "").all()  # no appraisal, no scores


def test_private_settings_switch_solara_off_even_when_it_is_loaded():
    import solara.server.settings
    import solara.settings

    from sim.pictures import private

    solara.server.settings.telemetry.mixpanel_enable = True
    private.switch_off()
    assert solara.server.settings.telemetry.mixpanel_enable is False
    assert solara.settings.assets.cdn == private.NO_CDN
    assert os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"


def test_page_controls_play_to_the_end_then_play_again_pause_and_go_back(monkeypatch):
    """The page rendered as in a notebook (no browser; cheap stand-in charts): the controls' logic."""
    import ipyvuetify as v
    import solara
    from matplotlib.figure import Figure

    from sim.pictures import explorer, explorer_views

    for name in ("workforce_panel", "modes_panel", "map_panel"):
        monkeypatch.setattr(explorer_views, name, lambda *args: Figure(figsize=(1, 1)))
    monkeypatch.setattr(explorer, "PLAY_SECONDS", 0.05)
    monkeypatch.setenv(explorer.ENV_REPLICATIONS, "2")
    _box, rc = solara.render(explorer.Page(), handle_error=False)

    def year():
        html = rc.find(solara.widgets.HTML).widgets
        return next(w.unsafe_innerHTML for w in html if w.attributes.get("id") == "explorer-year")

    def button(label):
        return next((w for w in rc.find(v.Btn).widgets if w.children == [label]), None)

    def wait(condition, what):
        deadline = time.monotonic() + 60
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.05)

    assert year() == "2014-15" and "Time" not in str(rc.find(solara.widgets.HTML).widgets)
    button("Step one year").click()
    assert year() == "2015-16"
    button("▶ Play").click()
    wait(lambda: button("▶ Play again"), "Play again at the end")
    assert year() == "2020-21" and button("Step one year").disabled and not button("▶ Play again").disabled
    monkeypatch.setattr(explorer, "PLAY_SECONDS", 3.0)  # slow enough to pause before the first step
    button("▶ Play again").click()  # from the first year again, playing
    button("❚❚ Pause").click()
    assert year() == "2014-15" and button("▶ Play") and not button("Step one year").disabled
    time.sleep(3.5)
    assert year() == "2014-15"  # paused: the year that was due did not come
    button("Back to 2014-15").click()
    assert year() == "2014-15"


def _outside(netlog: Path) -> list[str]:
    """The network attempts in a recorder's file that leave this machine."""
    import ast

    out = []
    for line in netlog.read_text().splitlines() if netlog.exists() else []:
        event, address = line.split("\t")
        value = ast.literal_eval(address) if address[:1] in "('\"N" else address
        host = value[0] if isinstance(value, tuple) else value
        if isinstance(value, str) and event == "socket.connect":
            continue  # a Unix socket
        if host not in LOOPBACK:
            out.append(line)
    return out


def test_the_network_recorder_sees_an_outside_lookup(tmp_path):
    log = tmp_path / "netlog.txt"
    code = "import socket\ntry: socket.getaddrinfo('pypi.org', 443)\nexcept OSError: pass"
    env = dict(os.environ, NETLOG=str(log), PYTHONPATH=str(NETLOG_DIR))
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert _outside(log) == ["socket.getaddrinfo\t'pypi.org'"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _start(port: int, netlog: Path | None = None) -> subprocess.Popen:
    env = dict(os.environ)
    if netlog is not None:
        env |= {"NETLOG": str(netlog), "PYTHONPATH": str(NETLOG_DIR)}
    return subprocess.Popen(
        [sys.executable, "-m", "sim", "explore", "--port", str(port), "--replications", str(REPLICATIONS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_listening(server: subprocess.Popen, port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not _listening(port):
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"the explorer did not start on port {port}: {server.communicate()[0][-2000:]}")
        time.sleep(0.3)


def test_a_taken_port_is_bad_input():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "sim", "explore", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    assert done.returncode == 2 and f"--port {port}: cannot listen there" in done.stderr
    assert "explorer: http" not in done.stdout  # no server was announced


def _listener_and_children(pid: int, port: int) -> tuple[bool, list[int]]:
    """Whether process ``pid`` holds the socket listening on ``port``, and its child processes."""
    held = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            held.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    owns = False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:] if Path(table).exists() else []:
            fields = line.split()
            listening = fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port
            owns |= listening and f"socket:[{fields[9]}]" in held
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry))
    return owns, children


# ---------------------------------------------------------------- in the browser
@pytest.fixture
def served(tmp_path_factory):
    netlog = tmp_path_factory.mktemp("netlog") / "netlog.txt"
    port = _free_port()
    server = _start(port, netlog)
    try:
        _wait_listening(server, port)
        yield {"url": f"http://127.0.0.1:{port}/", "port": port, "server": server, "netlog": netlog}
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)
        server.stdout.close()


@pytest.fixture
def browser(tmp_path_factory):
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
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
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
        time.sleep(0.2)
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


def _body(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def _year(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, "explorer-year").text.strip()


def _button(driver, text: str):
    from selenium.webdriver.common.by import By

    return next(
        b for b in driver.find_elements(By.TAG_NAME, "button") if b.text.strip().upper() == text.upper()
    )


def _no_console_errors(driver) -> None:
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, f"the browser console shows errors: {errors}"


def _screenshot(driver, name: str, tmp_path: Path, must_show: list[str]) -> Path:
    """A screenshot of the page, checked: its words are on the page and each chart is drawn in the picture."""
    import matplotlib.image
    from selenium.webdriver.common.by import By

    body = _body(driver)
    for text in must_show:
        assert text in body, f"{name}: the page does not show {text!r}"
    path = tmp_path / f"explorer_{name}.png"
    driver.save_screenshot(str(path))
    picture = matplotlib.image.imread(path)[..., :3]
    scale = picture.shape[1] / driver.execute_script("return window.innerWidth")
    charts = [
        i for i in driver.find_elements(By.TAG_NAME, "img") if i.get_attribute("src").startswith("blob:")
    ]
    for chart in charts:
        r = chart.rect
        x0, y0 = int(r["x"] * scale), int(r["y"] * scale)
        box = picture[y0 : y0 + int(r["height"] * scale), x0 : x0 + int(r["width"] * scale)]
        if y0 < 0 or y0 + box.shape[0] > picture.shape[0] or box.shape[0] < 50:  # not wholly in the picture
            continue
        inked = (box.min(axis=2) < 0.6).mean()
        assert inked > 0.01, f"{name}: a chart at {r} is blank in the screenshot"
    if os.environ.get("EXPLORER_SCREENSHOTS"):
        keep = Path(os.environ["EXPLORER_SCREENSHOTS"])
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, keep / path.name)
    return path


def _changed(driver, before: list[str], which=range(3)):
    charts = _charts(driver)
    return len(charts) == 3 and all(charts[k] != before[k] for k in which) and charts


def _load_names_the_tool_says_what_it_shows_and_draws_the_first_year(page, browser, tmp_path):
    assert browser.title == "mutuals-sim explorer"
    _screenshot(
        browser,
        "start",
        tmp_path,
        [
            "What am I looking at?",
            "public service mutual",
            "2014-15",
            "Back to 2014-15 keeps the levers as you set them",
            "National money a year to help councils",  # a lever, explained where it is set
            "Councils on their real 2014-2019 funding paths",  # the scenario's description
            "A council close up",
        ],
    )
    assert "Time:" not in _body(browser) and "PAGE 0" not in _body(browser)
    _no_console_errors(browser)


def _step_moves_a_year_and_every_chart_answers(page, browser, tmp_path):
    _button(browser, "Step one year").click()
    _wait(lambda: _year(browser) == "2015-16", 60, "the year 2015-16")
    page["charts"] = _wait(lambda: _changed(browser, page["charts"]), 60, "all three charts to change")
    _screenshot(browser, "step", tmp_path, ["2015-16", "councils as they stand in April 2015"])
    _no_console_errors(browser)


def _a_lever_rebuilds_the_model_at_the_year_reached(page, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    def thumb():
        box = browser.find_element(By.CSS_SELECTOR, "[data-lever='policy.publicity']")
        return box.find_element(By.XPATH, "following::*[@role='slider'][1]")

    assert thumb().get_attribute("aria-valuenow") == "1"
    for _ in range(2):  # two steps of 0.1: publicity x1 -> x1.2
        now = thumb().get_attribute("aria-valuenow")
        thumb().send_keys(Keys.ARROW_RIGHT)
        _wait(lambda now=now: thumb().get_attribute("aria-valuenow") != now, 30, "the slider to move")
    _wait(
        lambda: "publicity and peer networks: x1.2" in _body(browser),
        60,
        "the lever change to reach the model",
    )
    page["charts"] = _wait(
        lambda: _changed(browser, page["charts"], [0]), 60, "the workforce chart to change"
    )
    assert _year(browser) == "2015-16"  # the rebuilt model was stepped to the year reached
    _screenshot(
        browser,
        "lever",
        tmp_path,
        ["publicity and peer networks: x1.2", "Levers set here away from the scenario file: publicity"],
    )
    assert not _button(browser, "Use the scenario's levers").get_attribute("disabled")
    _no_console_errors(browser)


def _play_runs_to_the_end_and_leaves_the_controls_usable(page, browser, tmp_path):
    _button(browser, "▶ Play").click()
    _wait(lambda: _button(browser, "❚❚ Pause"), 30, "Play to become Pause")
    assert _button(browser, "Step one year").get_attribute("disabled")  # no stepping while playing
    _wait(lambda: _year(browser) == "2020-21", 90, "the last year, 2020-21")
    again = _wait(lambda: _button(browser, "▶ Play again"), 30, "Play again at the end")
    assert not again.get_attribute("disabled")
    assert _button(browser, "Step one year").get_attribute("disabled")  # nothing left to step
    assert not _button(browser, "Back to 2014-15").get_attribute("disabled")
    page["charts"] = _wait(lambda: _changed(browser, page["charts"]), 60, "all three charts to change")
    _screenshot(browser, "end", tmp_path, ["2020-21", "The run has reached its last year", "▶ PLAY AGAIN"])
    _no_console_errors(browser)


def _council_with_appraisals():
    """A council with appraised decisions by 2020 in the page's first replication (publicity x1.2)."""
    from sim.inputs.scenario import load_scenario
    from sim.pictures import explorer, explorer_views

    os.environ[explorer.ENV_REPLICATIONS] = str(REPLICATIONS)
    try:
        seeds = explorer.start_seeds()
    finally:
        del os.environ[explorer.ENV_REPLICATIONS]
    spec = load_scenario(ROOT / "scenarios" / "baseline.toml").with_changes({"policy.publicity": 1.2})
    model = explorer.build_model(spec, seeds, 2020)
    for name, code in sorted(zip(model.england.names, model.england.codes, strict=True)):
        log = explorer_views.council_decisions(model, code)
        if name.startswith("K") and (log["scores, highest first"] != "").any():
            return name, log


def _a_council_shows_its_parts_and_decisions_with_reasons_and_scores(page, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    name, log = _council_with_appraisals()
    box = browser.find_element(By.ID, "explorer-council")
    box.click()
    box.send_keys(name)
    _wait(
        lambda: [i for i in browser.find_elements(By.CSS_SELECTOR, ".v-list-item") if i.text == name],
        30,
        name,
    )[0].click()
    heading = f"Decisions about {name}'s services so far (replication 1): {len(log)}"
    _wait(lambda: heading in _body(browser), 60, f"the decisions of {name}")
    box.send_keys(Keys.ESCAPE)
    browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(By.ID, "explorer-council"))
    scored = log[log["scores, highest first"] != ""].iloc[0]
    _screenshot(
        browser,
        "council",
        tmp_path,
        [f"{name}'s services in 2020-21", heading, scored["why"], scored["scores, highest first"], "Scores:"],
    )
    _no_console_errors(browser)


def _back_to_the_start_keeps_the_levers(page, browser, tmp_path):
    _button(browser, "Back to 2014-15").click()
    _wait(lambda: _year(browser) == "2014-15", 60, "the year 2014-15")
    assert "publicity and peer networks: x1.2" in _body(browser)
    assert not _button(browser, "Step one year").get_attribute("disabled")
    _no_console_errors(browser)


def _the_page_loaded_only_from_the_server(served, browser):
    origin = served["url"].rstrip("/")
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert len(loaded) > 10  # the page's scripts, styles and fonts
    elsewhere = [u for u in loaded if not u.startswith((origin, "blob:", "data:"))]
    assert elsewhere == [], f"the page loaded files from elsewhere: {elsewhere}"


def _the_server_made_no_outside_connection_and_ends_with_its_command(served):
    try:  # a browser file the pinned assets lack: an error here, never a fetch from the internet
        urllib.request.urlopen(served["url"] + "_solara/cdn/katex@0.16.9/dist/katex.min.js", timeout=30)
    except OSError:
        pass
    assert served["netlog"].exists(), "the recorder did not run in the server"
    assert _outside(served["netlog"]) == []
    server = served["server"]
    # the command itself serves the page, with no child process: however it ends (even SIGKILL), the
    # kernel closes its listening socket and nothing is left serving
    assert _listener_and_children(server.pid, served["port"]) == (True, [])
    start = time.monotonic()
    server.send_signal(signal.SIGTERM)  # with the page still open in the browser
    assert server.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn shuts down, then dies of the signal
    assert time.monotonic() - start < 30 and not _listening(served["port"])


def test_a_first_time_user_in_chromium(browser, served, tmp_path):
    """Load, step, move a lever, play to the end, pick a council, go back; private; ends with SIGTERM."""
    with urllib.request.urlopen(served["url"], timeout=60) as response:  # the tab's name before the page runs
        assert "<title>mutuals-sim explorer</title>" in response.read().decode()
    browser.get(served["url"])
    browser.execute_script("performance.setResourceTimingBufferSize(10000)")
    page = {"charts": _wait(lambda: len(c := _charts(browser)) == 3 and c, 120, "the three charts")}
    for stage in (
        _load_names_the_tool_says_what_it_shows_and_draws_the_first_year,
        _step_moves_a_year_and_every_chart_answers,
        _a_lever_rebuilds_the_model_at_the_year_reached,
        _play_runs_to_the_end_and_leaves_the_controls_usable,
        _a_council_shows_its_parts_and_decisions_with_reasons_and_scores,
        _back_to_the_start_keeps_the_levers,
    ):
        stage(page, browser, tmp_path)
    _the_page_loaded_only_from_the_server(served, browser)
    _the_server_made_no_outside_connection_and_ends_with_its_command(served)
