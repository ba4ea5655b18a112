"""docs/outputs.md stays true to the model: every national.csv column is documented."""

import re
from pathlib import Path

from sim.model import DivestmentModel
from sim.model.rules import MODES

DOC = (Path(__file__).resolve().parent.parent / "docs" / "outputs.md").read_text()


def test_every_national_column_is_documented():
    columns = DivestmentModel(seed=0).national().columns
    documented = set(re.findall(r"`([a-z_0-9<>]+)`", DOC))
    missing = []
    for col in columns:
        modes = "|".join(MODES)
        generic = re.sub(rf"^staff_({modes})$", "staff_<mode>", col)
        generic = re.sub(
            rf"^n_(adult_social_care|libraries|leisure)_({modes})$", "n_<service>_<mode>", generic
        )
        generic = re.sub(rf"^n_providers_({modes})$", "n_providers_<mode>", generic)
        generic = re.sub(
            rf"^units_(adult_social_care|libraries|leisure)_({modes})$", "units_<service>_<mode>", generic
        )
        generic = re.sub(
            r"^council_staff_(adult_social_care|libraries|leisure)$", "council_staff_<service>", generic
        )
        if col not in documented and generic not in documented:
            missing.append(col)
    assert not missing


def test_every_mode_is_documented():
    for mode in MODES:
        assert f"`{mode}`" in DOC
