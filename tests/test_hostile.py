"""Hostile input: every file or argument a user can get wrong gives exit 2, one message naming the file and
key (or argument), no traceback and nothing written; generated documents (Hypothesis) find no exception.
"""

import contextlib
import io
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.experiments.sweep_spec import load_sweep
from sim.inputs import params
from sim.inputs.scenario import RUN_KEYS, SCENARIO_KEYS, ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
TINY = ["--replications", "1", "--end-year", "2015", "--quiet"]


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def run_cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


# ------------------------------------------------------------------ scenario, funding and observed files
FUNDING_HEAD = "ons_code,year,cash_change\n"
SCENARIOS = {
    "nan-simplification": ('[parameters]\n"policy.simplification" = nan\n', "policy.simplification"),
    "nan-review-rate": ('[parameters]\n"review.rate_per_pressure" = nan\n', "review.rate_per_pressure"),
    "nan-budget": ('[parameters]\n"support.budget_gbp_m_per_year" = nan\n', "support.budget_gbp_m_per_year"),
    "inf-budget": ('[parameters]\n"support.budget_gbp_m_per_year" = inf\n', "not a finite number"),
    "nested-nan": ("[parameters.policy]\nsimplification = -nan\n", "policy.simplification"),
    "empty-file": ("", "empty scenario file"),
    "comments-only": ("# nothing here\n\n", "empty scenario file"),
    "seed-too-large": ("[run]\nseed = 9223372036854775808\nreplications = 2\n", "run.seed"),
    "seed-negative": ("[run]\nseed = -1\n", "run.seed"),
    "seed-beyond-64-bits": ("[run]\nseed = 99999999999999999999\n", "run.seed"),
    "name-climbs-out": ('[scenario]\nname = "../../../x"\n', "scenario.name"),
    "name-absolute": ('[scenario]\nname = "/tmp/x"\n', "scenario.name"),
    "name-hidden": ('[scenario]\nname = ".hidden"\n', "scenario.name"),
    "extends-missing": ('[scenario]\nextends = "nowhere.toml"\n', "scenario.extends: file not found"),
    "extends-folder": ('[scenario]\nextends = "."\n', "scenario.extends"),
    "extends-nul": ('[scenario]\nextends = "a\\u0000b"\n', "control character"),
    "funding-path-file-nul": (
        '[parameters]\n"funding.path" = "file"\n"funding.path_file" = "a\\u0000b"\n',
        "funding.path_file: 'a\\x00b' contains the control character",
    ),
    "funding-path-file-not-str": ('[parameters]\n"funding.path" = "file"\n"funding.path_file" = 5\n', "str"),
}
FUNDING = {
    "duplicate-council-year": ("E10000029,2016,-0.05\nE10000029,2016,-0.04\n", "more than once"),
    "fractional-year": ("E10000029,2016.7,-0.05\n", "not a whole year"),
    "year-1800": ("E10000029,1800,-0.05\n", "outside the model's years"),
    "year-huge": ("E10000029,99999999999,-0.05\n", "outside the model's years"),
    "nan-change": ("E10000029,2016,nan\n", "not finite"),
    "inf-change": ("E10000029,2016,inf\n", "not finite"),
    "percent-not-fraction": ("E10000029,2016,-5\n", "not a plausible yearly change"),
    "unknown-council": ("E99999999,2016,-0.05\n", "unknown ONS codes"),
    "header-only": ("", "no rows after the header"),
}


def _check_refused(tmp_path: Path, argv: list[str], file: Path, fragment: str) -> str:
    before = files_under(tmp_path)
    code, err = run_cli(argv)
    assert code == 2, err
    assert str(file) in err or file.name in err, err
    assert fragment in err, err
    assert "Traceback" not in err and "internal error" not in err
    assert files_under(tmp_path) == before, "nothing may be written"
    return err


@pytest.mark.parametrize("name", SCENARIOS)
def test_hostile_scenario_file_is_refused(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    text, fragment = SCENARIOS[name]
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    _check_refused(tmp_path, ["run", str(path), *TINY], path, fragment)


@pytest.mark.parametrize("name", FUNDING)
def test_hostile_funding_file_is_refused(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    body, fragment = FUNDING[name]
    (tmp_path / "path.csv").write_text(FUNDING_HEAD + body)
    path = tmp_path / "s.toml"
    path.write_text('[parameters]\n"funding.path" = "file"\n"funding.path_file" = "path.csv"\n')
    err = _check_refused(tmp_path, ["run", str(path), *TINY], path, fragment)
    assert "path.csv" in err and "funding.path_file" in err


@pytest.mark.parametrize("kind", ["scenario", "sweep", "funding", "observed"])
def test_binary_garbage_is_refused_as_not_text(tmp_path, monkeypatch, kind):
    monkeypatch.chdir(tmp_path)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(128, 256)) * 4)
    if kind == "funding":
        cfg = tmp_path / "s.toml"
        cfg.write_text('[parameters]\n"funding.path" = "file"\n"funding.path_file" = "junk.bin"\n')
        argv = ["run", str(cfg), *TINY]
    elif kind == "observed":
        argv = ["run", str(BASELINE), "--observed", str(junk), *TINY]
    else:
        argv = ["run" if kind == "scenario" else "sweep", str(junk), "--quiet"]
    _check_refused(tmp_path, argv, junk, "not a text")


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b'\xef\xbb\xbf[scenario]\nname = "bom"\n')
    assert load_scenario(path).name == "bom"


def test_extends_errors_name_the_file_and_key_that_refer(tmp_path):
    (tmp_path / "a.toml").write_text('[scenario]\nextends = "b.toml"\n')
    with pytest.raises(ScenarioError) as exc:
        load_scenario(tmp_path / "a.toml")
    (problem,) = exc.value.problems  # then: nor a shipped scenario (by name, e.g. baseline)
    assert problem.startswith(
        f"{tmp_path / 'a.toml'}: scenario.extends: file not found: {tmp_path / 'b.toml'}"
    )


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("2014,n_mutuals,nan,x", "not a finite number"),
        ("1800,n_mutuals,1,x", "outside"),
        ("2016.7,n_mutuals,1,x", "not a year"),
    ],
    ids=["nan", "year-1800", "fractional-year"],
)
def test_hostile_observed_file_is_refused(tmp_path, monkeypatch, row, fragment):
    monkeypatch.chdir(tmp_path)
    obs = tmp_path / "obs.csv"
    obs.write_text(f"year,measure,value,source\n{row}\n")
    _check_refused(tmp_path, ["run", str(BASELINE), "--observed", str(obs), *TINY], obs, fragment)


# ------------------------------------------------------------------ sweep files
SWEEP_HEAD = f'[sweep]\nbase = "{BASELINE}"\n[run]\nreplications = 1\nseed = 1\n'
SWEEPS = {
    "nan-arm-value": ('[arms.a]\n"policy.simplification" = nan\n', "arms.a.policy.simplification"),
    "nan-fixed": ('[parameters]\n"policy.publicity" = inf\n', "parameters.policy.publicity"),
    "nan-range": (
        "[design]\nkind = 'lhs'\nsamples = 4\n[factors]\n'policy.publicity' = {min = nan, max = 1.0}\n",
        "factors.policy.publicity.min",
    ),
    "nan-level": (
        "[design]\nkind = 'factorial'\n[factors]\n'policy.publicity' = [1.0, nan]\n",
        "factors.policy.publicity: level nan",
    ),
    "name-climbs-out": ("", "sweep.name"),
    "file-as-factor": (
        "[design]\nkind = 'factorial'\n[factors]\n'funding.path_file' = ['a.csv', 'b.csv']\n",
        "factors.funding.path_file: a file cannot be a design factor",
    ),
}


@pytest.mark.parametrize("name", SWEEPS)
def test_hostile_sweep_file_is_refused(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    body, fragment = SWEEPS[name]
    head = (
        SWEEP_HEAD.replace("[sweep]\n", '[sweep]\nname = "../../x"\n')
        if name == "name-climbs-out"
        else SWEEP_HEAD
    )
    path = tmp_path / "sw.toml"
    path.write_text(head + body)
    _check_refused(tmp_path, ["sweep", str(path), "--quiet"], path, fragment)


def test_the_largest_seed_takes_any_number_of_replications(tmp_path):
    path = tmp_path / "sw.toml"
    path.write_text(SWEEP_HEAD.replace("seed = 1", f"seed = {2**63 - 1}"))
    seeds = load_sweep(path).with_replications(50).seeds()  # derived seeds stay below 2**63
    assert len(set(seeds)) == 50 and all(0 <= s < 2**63 for s in seeds)


# ------------------------------------------------------------------ arguments and tracebacks
def test_a_bad_scheduler_address_is_one_message_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sweep = ROOT / "tests" / "data" / "sweep_arms.toml"
    code, err = run_cli(["sweep", str(sweep), "--scheduler", "not a url", "--quiet", "--out", "sw"])
    assert code == 2 and "--scheduler not a url" in err and "Traceback" not in err
    assert files_under(tmp_path) == set(), "no sweep folder, no .lock"


def test_compare_on_a_run_folder_says_so(tmp_path):
    out = tmp_path / "r"
    assert main(["run", str(BASELINE), "--out", str(out), *TINY]) == 0
    code, err = run_cli(["compare", str(out)])
    assert code == 2 and "a run's results folder" in err
    assert not (out / "compare").exists()


def test_an_internal_error_gives_a_short_message_and_a_traceback_file(monkeypatch, tmp_path):
    from sim.cli import params as params_command

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(params_command, "command", broken)
    code, err = run_cli(["params"])
    assert code == 1 and "internal error: RuntimeError: boom" in err and "Traceback" not in err
    (written,) = tmp_path.glob("mutuals-sim-error-*.txt")
    assert str(written) in err
    assert "Traceback" in written.read_text() and "boom" in written.read_text()
    with pytest.raises(RuntimeError, match="boom"):
        main(["--debug", "params"])
    with pytest.raises(RuntimeError, match="boom"):
        main(["params", "--debug"])


def test_piping_into_a_reader_that_stops_ends_quietly(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "params"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "400"},
    )
    proc.stdout.close()  # as `| head` does once it has its lines
    err = proc.stderr.read().decode()
    proc.wait()
    assert proc.returncode in (0, 141) and "Traceback" not in err and "Error" not in err, err


def test_binary_scenario_in_a_real_process_has_no_traceback(tmp_path):
    junk = tmp_path / "junk.toml"
    junk.write_bytes(b"\x00\xff\xfe" * 50)
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(junk)], capture_output=True, text=True, cwd=tmp_path
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and str(junk) in proc.stderr
    assert files_under(tmp_path) == {"junk.toml"}


# ------------------------------------------------------------------ property: generated documents
KEYS = sorted(params.registry())
STR_KEYS = sorted(k for k, spec in params.registry().items() if spec.kind is str)
"""Text parameters (choices and the funding file's path): where a value can become a path."""
PARAM_KEYS = st.one_of(st.sampled_from(STR_KEYS), st.sampled_from(KEYS))
ODD_TEXT = st.sampled_from(["", " ", "..", "../x", "/", "a/b", "\\", ".", "nan", "file", "data", "é", "\x00"])
SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 2014, 2015, 2020, 2040, 2**63 - 1, 2**63, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.5, 1e308, -0.0]),
    ODD_TEXT,
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
TABLE_NAMES = st.sampled_from(
    ["scenario", "run", "parameters", "sweep", "arms", "design", "factors"]
) | st.text(max_size=6)
KNOWN_KEYS = st.sampled_from(
    KEYS + sorted(RUN_KEYS) + sorted(SCENARIO_KEYS) + ["base", "name", "kind", "samples"]
)


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # JSON string escapes are TOML basic-string escapes (no surrogates generated)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_document(doc: dict) -> str:
    top = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    tables = [
        f"[{json.dumps(k)}]\n" + "".join(f"{json.dumps(kk)} = {toml_value(vv)}\n" for kk, vv in v.items())
        for k, v in doc.items()
        if isinstance(v, dict)
    ]
    return "\n".join(top) + "\n" + "\n".join(tables)


KEYS_OF = {
    "scenario": st.sampled_from(sorted(SCENARIO_KEYS)),
    "run": st.sampled_from(sorted(RUN_KEYS)),
    "parameters": PARAM_KEYS,
    "factors": PARAM_KEYS,
    "sweep": st.sampled_from(["name", "description", "base", "baseline_arm"]),
    "design": st.sampled_from(["kind", "samples", "seed", "second_order"]),
    "arms": st.sampled_from(["baseline", "other", "new"]),
}


PATH_KEYS = {"extends", "base", "funding.path_file"}
PATHS = st.sampled_from(
    [
        "",
        ".",
        "..",
        "/",
        "a\x00b",
        "doc.toml",
        "nowhere.csv",
        "/dev/null",
        "/etc/hostname",
        "/proc/self/status",
    ]
    + [str(BASELINE), str(ROOT / "tests" / "data"), str(ROOT / "sim" / "data" / "councils_2014.csv")]
)
"""File names a document may give: itself, folders, devices, other programs' files, NUL."""


def _near(key: str):
    """Values near what a parameter expects: its default, its bounds, and beyond them."""
    if key in PATH_KEYS:
        return st.one_of(PATHS, VALUES)
    spec = params.registry().get(key)
    if spec is None:
        return VALUES
    edges = [v for v in (spec.default, spec.min, spec.max) if v is not None]
    return st.one_of(st.sampled_from(edges + list(spec.choices or ()) + ["", "x"]), SCALARS, VALUES)


def _mutation(table: str):
    keys = KEYS_OF.get(table, st.text(max_size=8))
    keys = st.one_of(keys, KNOWN_KEYS, st.text(max_size=8))
    if table == "arms":  # an arm: a table of parameter changes
        return keys.flatmap(
            lambda arm: st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=2).map(
                lambda v: (table, arm, v)
            )
        )
    if table == "factors":  # levels or a range
        return PARAM_KEYS.flatmap(
            lambda k: st.one_of(
                st.lists(_near(k), max_size=3),
                st.fixed_dictionaries({"min": _near(k), "max": _near(k)}),
                VALUES,
            ).map(lambda v: (table, k, v))
        )
    return keys.flatmap(lambda k: _near(k).map(lambda v: (table, k, v)))


def _mutated(base: dict, tables: list[str]):
    mutation = st.one_of(st.sampled_from(tables), TABLE_NAMES).flatmap(_mutation)

    def apply(changes):
        doc = json.loads(json.dumps(base))
        for table, key, value in changes:
            if isinstance(doc.get(table), dict):
                doc[table][key] = value
            else:
                doc[table] = {key: value}
        return doc

    return st.lists(mutation, min_size=1, max_size=4).map(apply)


SCENARIO_BASE = {"scenario": {"name": "gen"}, "run": {"replications": 1, "end_year": 2015, "seed": 1}}
SWEEP_BASE = {
    "sweep": {"name": "gen", "base": str(BASELINE)},
    "run": {"replications": 1, "seed": 1, "end_year": 2015},
    "arms": {"baseline": {}, "other": {"policy.publicity": 1.5}},
}
RANDOM_DOCS = st.dictionaries(TABLE_NAMES, VALUES, max_size=4)
SCENARIO_TABLES = ["scenario", "run", "parameters", "parameters", "parameters"]
SWEEP_TABLES = ["sweep", "run", "parameters", "arms", "arms", "design", "factors", "factors"]


def _with_path(base: dict, table: str, key: str, also: dict | None = None):
    """``base`` with a file name from :data:`PATHS` at ``table.key`` (and ``also`` set)."""

    def put(path):
        doc = json.loads(json.dumps(base))
        doc.setdefault(table, {})[key] = path
        for t, values in (also or {}).items():
            doc.setdefault(t, {}).update(values)
        return doc

    return PATHS.map(put)


FILE_FUNDING = {"parameters": {"funding.path": "file"}}
SCENARIO_DOCS = st.one_of(
    RANDOM_DOCS,
    _mutated(SCENARIO_BASE, SCENARIO_TABLES),
    _with_path(SCENARIO_BASE, "scenario", "extends"),
    _with_path(SCENARIO_BASE, "parameters", "funding.path_file", FILE_FUNDING),
)
SWEEP_DOCS = st.one_of(
    RANDOM_DOCS,
    _mutated(SWEEP_BASE, SWEEP_TABLES),
    _with_path(SWEEP_BASE, "sweep", "base"),
    _with_path(SWEEP_BASE, "parameters", "funding.path_file", FILE_FUNDING),
)
LEVERS = sorted(k for k, spec in params.registry().items() if spec.tag == "lever")


def _scheduled(base: dict, arm: bool):
    """``base`` with a lever on a schedule whose years may lie outside the run's, and any start year."""

    def put(args):
        key, years, start = args
        doc = json.loads(json.dumps(base))
        value = params.registry()[key].default
        schedule = [[y, value] for y in sorted(set(years))]
        target = (
            doc.setdefault("arms", {}).setdefault("late", {}) if arm else doc.setdefault("parameters", {})
        )
        target[key] = schedule
        if start is not None:
            doc["run"]["start_year"] = start
        return doc

    years = st.lists(st.integers(2005, 2045), min_size=1, max_size=3)
    return st.tuples(st.sampled_from(LEVERS), years, st.sampled_from([None, 2010, 2012, 2014])).map(put)


SCENARIO_DOCS = st.one_of(SCENARIO_DOCS, _scheduled(SCENARIO_BASE, arm=False))
SWEEP_DOCS = st.one_of(SWEEP_DOCS, _scheduled(SWEEP_BASE, arm=True))
RAW = st.one_of(st.binary(max_size=64), st.binary(max_size=16).map(lambda b: b"\xef\xbb\xbf" + b))
_runs_left = {"run": 3, "sweep": 2}


def _accepted_or_refused(command: str, loader, doc_bytes: bytes) -> None:
    """The document is either loaded (and, the first few times, run tiny) or refused by the command line
    with exit 2, a message naming the file, no traceback and nothing written."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "doc.toml"
        path.write_bytes(doc_bytes)
        out = folder / "out"
        try:
            loader(path)
            accepted = True
        except ScenarioError:
            accepted = False
        if accepted and _runs_left[command] <= 0:
            return
        extra = ["--replications", "1", "--quiet"] + (
            ["--end-year", "2015"] if command == "run" else ["--workers", "1"]
        )
        code, err = run_cli([command, str(path), "--out", str(out), *extra])
        assert "internal error" not in err and "Traceback" not in err, err
        if accepted:
            _runs_left[command] -= 1
            assert code == 0, err
            assert (out / "manifest.json").is_file()
        else:
            assert code == 2, err
            assert str(path) in err, err
            first_words = [line.split(":")[0] for line in err.splitlines()]
            assert err.startswith("error:") and first_words.count("error") == 1, err  # one message
            assert files_under(folder) == {"doc.toml"}, "a refused document writes nothing"


PROPERTY = settings(
    max_examples=150,  # about 15 s each on an idle machine
    deadline=None,
    database=None,  # nothing written into the checkout; a failure prints the example to reproduce it
    derandomize=True,  # the same examples on every run and machine: CI cannot pass or fail by chance
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(st.one_of(SCENARIO_DOCS.map(lambda d: toml_document(d).encode()), RAW))
def test_generated_scenario_documents_are_accepted_or_refused_cleanly(doc_bytes):
    _accepted_or_refused("run", load_scenario, doc_bytes)


@PROPERTY
@given(st.one_of(SWEEP_DOCS.map(lambda d: toml_document(d).encode()), RAW))
def test_generated_sweep_documents_are_accepted_or_refused_cleanly(doc_bytes):
    _accepted_or_refused("sweep", load_sweep, doc_bytes)


@pytest.mark.parametrize(
    "damage", ["manifest-garbage", "manifest-a-list", "design-missing", "chunk-truncated"]
)
def test_compare_on_a_damaged_sweep_folder_is_one_message(tmp_path, damage):
    from sim.experiments.store import chunk_files
    from sim.experiments.sweep import run_sweep

    out = tmp_path / "sw"
    run_sweep(load_sweep(ROOT / "tests" / "data" / "sweep_arms.toml").with_replications(1), out, workers=1)
    if damage == "manifest-garbage":
        (out / "manifest.json").write_bytes(b"\x00garbage")
    elif damage == "manifest-a-list":
        (out / "manifest.json").write_text("[1, 2]")
    elif damage == "design-missing":
        (out / "design.parquet").unlink()
    else:
        chunk = chunk_files(out, "runs")[0]
        chunk.write_bytes(chunk.read_bytes()[:100])
    code, err = run_cli(["compare", str(out)])
    assert code == 2 and str(out) in err and "Traceback" not in err and "internal error" not in err, err
    assert not (out / "compare").exists()


def test_a_run_records_every_input_file_with_its_hash(tmp_path):
    import hashlib

    funding = tmp_path / "path.csv"
    funding.write_text(FUNDING_HEAD + "E10000029,2016,-0.05\n")
    base = tmp_path / "base.toml"
    base.write_text('[parameters]\n"funding.path" = "file"\n"funding.path_file" = "path.csv"\n')
    child = tmp_path / "child.toml"
    child.write_text('[scenario]\nname = "child"\nextends = "base.toml"\n')
    observed = ROOT / "sim" / "data" / "observed_2014.csv"
    out = tmp_path / "out"
    assert main(["run", str(child), "--out", str(out), "--observed", str(observed), *TINY]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    inputs = [(i["role"], Path(i["path"]).name, i["sha256"]) for i in manifest["inputs"]]
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (base, child, funding, observed)}
    assert inputs == [
        ("scenario", "base.toml", digest["base.toml"]),
        ("scenario", "child.toml", digest["child.toml"]),
        ("funding", "path.csv", digest["path.csv"]),
        ("observed", "observed_2014.csv", digest["observed_2014.csv"]),
    ]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('[arms.a]\n"funding.path" = "file"\n', "arms.a: funding.path_file: required"),
        (
            '[arms.a]\n"funding.path" = "file"\n"funding.path_file" = "dup.csv"\n',
            "arms.a: funding.path_file: ",
        ),
        (
            "[design]\nkind = 'factorial'\n[factors]\n'funding.path' = ['data', 'file']\n",
            "arms.base: funding.path_file: required",
        ),
    ],
    ids=["arm-without-file", "arm-with-bad-file", "design-switches-to-file"],
)
def test_a_sweep_arm_on_a_funding_file_needs_a_good_one(tmp_path, monkeypatch, body, fragment):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dup.csv").write_text(FUNDING_HEAD + "E10000029,2016,-0.05\nE10000029,2016,-0.05\n")
    path = tmp_path / "sw.toml"
    path.write_text(SWEEP_HEAD + body)
    err = _check_refused(tmp_path, ["sweep", str(path), "--quiet"], path, fragment)
    assert "dup.csv" not in body or "more than once" in err


# ------------------------------------------------------------------ independent replication seeds
def test_runs_with_different_seeds_share_no_replication():
    from sim.inputs.scenario import replication_seeds

    one, two = replication_seeds(1, 1000), replication_seeds(2, 1000)
    assert not set(one) & set(two)  # seed + r shared 999 of 1000
    assert len(set(one)) == 1000 and all(0 <= s < 2**63 for s in one + two)
    assert replication_seeds(1, 10) == one[:10]  # more replications keep those done


def test_the_manifest_records_each_replications_seed(tmp_path):
    out = tmp_path / "r"
    code, err = run_cli(["run", str(BASELINE), "--out", str(out), "--seed", "7", "--national-only", *TINY])
    assert code == 0, err
    from sim.inputs.scenario import replication_seeds

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == replication_seeds(7, 1) and manifest["scenario"]["run"]["seed"] == 7


# ------------------------------------------------------------------ one writer per folder
def _sim(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_racing_for_one_folder_one_wins_the_other_is_told(tmp_path):
    runs = {
        seed: _sim(
            ["run", str(BASELINE), "--out", "same", "--seed", seed, "--national-only", *TINY], tmp_path
        )
        for seed in ("1", "2")
    }
    ended = {seed: (p.wait(timeout=120), p.stderr.read()) for seed, p in runs.items()}
    codes = sorted(code for code, _ in ended.values())
    assert codes == [0, 2], ended
    winner = next(seed for seed, (code, _) in ended.items() if code == 0)
    loser_err = next(err for code, err in ended.values() if code == 2)
    assert "same" in loser_err and "Traceback" not in loser_err and len(loser_err.strip().splitlines()) == 1
    manifest = json.loads((tmp_path / "same" / "manifest.json").read_text())
    assert manifest["scenario"]["run"]["seed"] == int(winner)  # the results are the winner's, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same"]  # no lock or staging left


def test_a_folder_held_by_another_command_is_refused_naming_it_and_the_process(tmp_path):
    from sim.experiments.locks import out_lock

    out = tmp_path / "held"
    argv = ["run", str(BASELINE), "--out", str(out), "--national-only", *TINY]
    assert run_cli(argv)[0] == 0
    before = files_under(tmp_path)
    with out_lock(out):  # as another command writing it would
        proc = _sim([*argv, "--force"], tmp_path)
        code, err = proc.wait(timeout=120), proc.stderr.read()
    assert code == 2 and str(out) in err and f"pid {os.getpid()}" in err, err
    assert files_under(tmp_path) == before  # --force replaced nothing a live command holds


def test_default_folders_of_runs_started_together_differ(tmp_path):
    from sim.experiments.output import default_out_dir

    names = {default_out_dir("baseline", root=tmp_path) for _ in range(200)}
    assert len(names) == 200  # all within the same second


# ------------------------------------------------------------------ helpers end with the command
def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_parent_killed_while_its_figure_process_runs_takes_it_along(tmp_path):
    """`run ... | cat`, then kill -9 of the run: the pipe closes and the figure process ends at once."""
    import signal
    import time

    argv = [sys.executable, "-m", "sim", "run", str(BASELINE), "--replications", "2", "--end-year", "2016"]
    proc = subprocess.Popen(argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not (kids := _children(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)  # the figure process is forked first thing
    assert kids, "no figure process was started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    import select

    start = time.monotonic()
    while time.monotonic() - start < 10:  # read to the end: once no process holds the pipe
        if select.select([proc.stdout], [], [], 0.5)[0] and not os.read(proc.stdout.fileno(), 65536):
            break
    else:
        pytest.fail("the command's output is still held open 10 s after it was killed")
    while any(map(_alive, kids)) and time.monotonic() - start < 10:
        time.sleep(0.05)
    assert not any(map(_alive, kids))


def test_staging_left_by_a_killed_command_is_swept_up_by_the_next_but_not_a_live_ones(tmp_path):
    from sim.experiments.locks import out_lock

    results = tmp_path / "results"
    dead = results / ".gone.partial-abcd1234"  # a command killed with SIGKILL while writing results/gone
    dead.mkdir(parents=True)
    (dead / "national.parquet").write_bytes(b"x" * 1000)
    (results / ".gone.mutuals-sim-lock").write_text("999999\n")
    replaced = results / ".kept.old-123-0123abcd"  # killed between moving old results aside and renaming
    replaced.mkdir()
    live = results / ".busy.partial-wxyz5678"
    with out_lock(results / "busy"):  # another command is writing results/busy
        live.mkdir()
        code, err = run_cli(["run", str(BASELINE), "--out", str(results / "new"), "--national-only", *TINY])
        assert code == 0, err
        assert live.is_dir()  # a live command's staging is left alone
    assert not dead.exists() and not (results / ".gone.mutuals-sim-lock").exists()
    assert (results / "kept").is_dir() and not replaced.exists()  # the earlier results are put back
    assert sorted(p.name for p in results.iterdir()) == [".busy.partial-wxyz5678", "kept", "new"]


# ------------------------------------------------------------------ stores that know what they hold
def _tiny_sweep(tmp_path: Path, run: str = "") -> Path:
    path = tmp_path / "sw.toml"
    path.write_text(
        f'[sweep]\nbase = "{BASELINE}"\n[run]\nreplications = 2\nseed = 1\nend_year = 2015\n{run}'
    )
    return path


def test_a_tampered_chunk_is_refused_by_compare_and_by_resume_naming_it(tmp_path):
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    sweep, out = _tiny_sweep(tmp_path), tmp_path / "out"
    assert run_cli(["sweep", str(sweep), "--out", str(out), "--quiet"])[0] == 0
    chunk = sorted((out / "runs").glob("chunk-*.parquet"))[0]
    table = pq.read_table(chunk)
    changed = table.set_column(
        table.column_names.index("mutual_staff"), "mutual_staff", pc.multiply(table["mutual_staff"], 2.0)
    )
    pq.write_table(
        changed.replace_schema_metadata(table.schema.metadata), chunk
    )  # values changed, metadata kept
    for argv in (["compare", str(out)], ["sweep", str(sweep), "--out", str(out), "--quiet"]):
        code, err = run_cli(argv)
        assert code == 2 and chunk.name in err and "checksum" in err and "Traceback" not in err, err
    assert not (out / "compare").exists()


def test_a_sweep_files_start_year_is_what_its_runs_start_from(tmp_path):
    from sim.experiments.store import read_runs

    out = tmp_path / "out"
    assert (
        run_cli(["sweep", str(_tiny_sweep(tmp_path, "start_year = 2010\n")), "--out", str(out), "--quiet"])[0]
        == 0
    )
    assert read_runs(out)["year"].min() == 2010
    code, err = run_cli(["sweep", str(_tiny_sweep(tmp_path, "start_year = 2012\n")), "--quiet"])
    assert code == 2 and "run.start_year" in err and "sw.toml" in err


def test_a_base_scenario_whose_start_year_changed_is_not_resumed_into_the_same_store(tmp_path):
    base = tmp_path / "base.toml"
    base.write_text(f'[scenario]\nextends = "{BASELINE}"\n[run]\nstart_year = 2010\n')
    sweep = tmp_path / "sw.toml"
    sweep.write_text(f'[sweep]\nbase = "{base}"\n[run]\nreplications = 2\nseed = 1\nend_year = 2015\n')
    out = tmp_path / "out"
    assert run_cli(["sweep", str(sweep), "--out", str(out), "--quiet"])[0] == 0
    base.write_text(f'[scenario]\nextends = "{BASELINE}"\n[run]\nstart_year = 2014\n')
    code, err = run_cli(["sweep", str(sweep), "--out", str(out), "--quiet", "--replications", "3"])
    assert code == 2 and "run.start_year" in err, err


# ------------------------------------------------------------------ no silent footguns
def test_a_schedule_starting_after_the_runs_end_is_refused(tmp_path):
    path = tmp_path / "late.toml"
    path.write_text('[parameters]\n"support.budget_gbp_m_per_year" = [[2030, 0.0]]\n')
    _check_refused(tmp_path, ["run", str(path), "--quiet"], path, "after the run's last year 2020")
    sweep = _tiny_sweep(tmp_path, '[arms.late]\n"support.budget_gbp_m_per_year" = [[2018, 0.0]]\n')
    _check_refused(tmp_path, ["sweep", str(sweep), "--quiet"], sweep, "after the run's last year 2015")


def test_a_run_larger_than_the_machines_memory_stops_before_simulating(tmp_path, monkeypatch):
    from sim.cli import run as run_cmd

    monkeypatch.setattr(run_cmd, "machine_memory_gb", lambda: 1.0)
    before = files_under(tmp_path)
    code, err = run_cli(["run", str(BASELINE), "--replications", "2000", "--out", str(tmp_path / "o")])
    assert code == 2 and "--national-only" in err and "fewer --replications" in err, err
    code, err = run_cli(["run", str(BASELINE), "--replications", "9000", "--national-only", "--quiet"])
    assert code == 2 and "fewer --replications" in err and "--national-only (" not in err, err
    assert files_under(tmp_path) == before


def test_a_very_deep_extends_chain_is_one_message(tmp_path):
    for k in range(100):
        (tmp_path / f"s{k}.toml").write_text(f'[scenario]\nextends = "s{k + 1}.toml"\n')
    (tmp_path / "s100.toml").write_text("[run]\nreplications = 1\n")
    code, err = run_cli(["check", str(tmp_path / "s0.toml")])
    assert code == 2 and "a chain of more than" in err and "Traceback" not in err


def test_a_name_the_terminal_cannot_print_does_not_fail_a_finished_run(tmp_path):
    path = tmp_path / "uni.toml"
    path.write_text('[scenario]\nname = "caf\\u00e9 \\u20ac"\n', encoding="utf-8")
    env = dict(os.environ, PYTHONIOENCODING="ascii", LC_ALL="C", LANG="C")
    argv = ["run", str(path), "--out", "o", "--replications", "1", "--end-year", "2015", "--national-only"]
    proc = subprocess.run([sys.executable, "-m", "sim", *argv], cwd=tmp_path, env=env, capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "manifest.json").is_file()


# ------------------------------------------------------------------ files only where the program made them
def test_calibrate_study_never_writes_to_a_users_file(tmp_path):
    mine = tmp_path / "notes.txt"
    mine.write_text("my notes\n")
    code, err = run_cli(
        ["calibrate", "--trials", "1", "--study", str(mine), "--out", str(tmp_path / "c.toml")]
    )
    assert code == 2 and "notes.txt" in err and "never written to" in err, err
    assert mine.read_text() == "my notes\n" and not (tmp_path / "c.toml").exists()


def test_a_sweep_whose_failures_folder_is_a_link_writes_and_deletes_nothing_there(tmp_path):
    sweep, out = _tiny_sweep(tmp_path), tmp_path / "out"
    assert run_cli(["sweep", str(sweep), "--out", str(out), "--quiet"])[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".x.tmp-1").write_text("a file of the user's that looks like a temporary file")
    for child in (out / "failures").iterdir():
        child.unlink()
    (out / "failures").rmdir()
    (out / "failures").symlink_to(elsewhere)
    code, err = run_cli(["sweep", str(sweep), "--out", str(out), "--quiet", "--replications", "3"])
    assert code == 2 and "failures" in err, err
    assert [p.name for p in elsewhere.iterdir()] == [".x.tmp-1"]


def test_map_refuses_an_output_whose_suffix_is_not_its_format(tmp_path):
    code, err = run_cli(["map", str(tmp_path), "--service", "leisure", "--year", "2015", "--out", "m.pdf"])
    assert code == 2 and "m.pdf" in err and ".png" in err
