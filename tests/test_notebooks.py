"""Every notebook runs top to bottom without edits (small sizes set at their tops), as a user would.

Executed as Jupyter does (nbclient, ipykernel), each notebook must show every chart it promises (counted as
``image/png`` outputs), print no warnings or errors, and leave no files outside its own results folder.
Each notebook opens with the question it answers and ends with what its figures show, the numbers printed
by its last cell. Every figure it shows is measured by :mod:`sim.pictures.readability` as it is drawn
(a cell added before the notebook's own records the problems, one after them prints them).
"""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IMAGES = {
    "01_baseline": 3,  # workforce, services by mode, mutual-run services by region
    "02_policy_levers": 3,  # ranking, fan, EMA Workbench worlds (PRIM box)
    "03_councils_and_places": 4,  # share maps (libraries; ASC, leisure), one replication, diffusion
    # observed panels, workforce with observations, 2010 history, posterior, backtest
    "04_calibration_and_evidence": 6,
}
"""The charts each notebook promises: a chart that stops appearing fails here."""
OWN_RESULTS = {"02_policy_levers": ROOT / "results" / "notebooks" / "02_policy_levers"}
"""Notebooks that write files, and the only folder they may write to."""


def test_every_notebook_has_a_promised_image_count():
    assert sorted(IMAGES) == [p.stem for p in NOTEBOOKS]


WATCH = """
from matplotlib.backend_bases import FigureCanvasBase as _Canvas
from sim.pictures.readability import problems as _problems
_READABILITY, _print_figure, _busy = {}, _Canvas.print_figure, []
def _checked(self, *args, **kwargs):
    if not _busy:
        _busy.append(1)
        try:
            found = _problems(self.figure, dpi=100)
            if found:
                _READABILITY[self.figure.get_suptitle() or str(id(self.figure))] = found
        finally:
            _busy.clear()
    return _print_figure(self, *args, **kwargs)
_Canvas.print_figure = _checked
"""
REPORT = "print('READABILITY', _READABILITY)"
"""Cells added around the notebook's own: every figure shown is measured as Jupyter draws it (at 100 dpi)."""


def _outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_shows_its_charts(path, tmp_path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        "commit notebooks without outputs"
    )
    assert nb.cells[0].cell_type == "markdown" and "headline" in nb.cells[0].source.lower()
    assert "**The question:**" in nb.cells[0].source  # opens with the question it answers
    ending = [c for c in nb.cells if c.cell_type == "markdown"][-1]
    assert ending.source.startswith("## What the figures show")
    assert nb.cells[-1].cell_type == "code" and "print(" in nb.cells[-1].source  # its numbers, computed
    nb.cells.insert(0, nbformat.v4.new_code_cell(WATCH))
    nb.cells.append(nbformat.v4.new_code_cell(REPORT))
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))  # the kernel's temporary folder: must stay empty
    before = {p for p in ROOT.rglob("*") if ".venv" not in p.parts and ".git" not in p.parts}
    NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    readability = nb.cells.pop()["outputs"][0]["text"]
    assert readability.strip() == "READABILITY {}", readability
    nb.cells.pop(0)
    outputs = _outputs(nb)
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors
    stderr = [o["text"] for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert not stderr, stderr
    texts = [o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in outputs]
    assert not [t for t in texts if "Warning" in t or "IProgress" in t]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == IMAGES[path.stem], f"{path.stem}: {len(images)} charts shown"
    as_text = [o for o in outputs if "<Figure size" in str(o.get("data", {}).get("text/plain", ""))]
    assert all("image/png" in o["data"] for o in as_text), "a figure shown as text, not as a picture"
    assert not os.listdir(temp), sorted(os.listdir(temp))
    own = OWN_RESULTS.get(path.stem)
    after = {p for p in ROOT.rglob("*") if ".venv" not in p.parts and ".git" not in p.parts}
    new = {p for p in after - before if not (own and (p == own or own in p.parents))}
    new = {p for p in new if not (own and p in own.parents)}
    assert not new, sorted(map(str, new))
