"""Mutuals outside local government as a population of providers, and the money of every provider.

Layers (STYLE.md): the starting state against the record of 2014; limiting cases (every programme off);
invariants (staff and spend conserved through re-procurement); direction (commissioners' budgets, support)
on common seeds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.inputs.scenario import load_scenario
from sim.model import DivestmentModel, prices, rules
from sim.model.loop import Year
from sim.model.spinouts import NAMED_STOCK, STOCK
from sim.model.stages import outside, pressure, providers

ROOT = Path(__file__).resolve().parent.parent
QUIET = {
    "outside.fail_rate_per_year": 0.0,
    "outside.p_lose_retender": 0.0,
    "outside.p_merge_per_year": 0.0,
    "outside.staff_growth_per_year": 0.0,
    "outside.commissioner_change_per_year": 0.0,
}
NO_PROGRAMMES = {"outside.right_to_provide": False, "outside.central_programme": False}


@pytest.fixture(scope="module")
def base():
    return load_scenario(ROOT / "scenarios" / "baseline.toml")


def _step_outside(m: DivestmentModel) -> Year:
    year = Year(y=m.year, col=m.year - 2011)
    pressure.assess(m, year)
    outside.step(m, year)
    return year


def test_the_2014_stock_is_the_record_of_2014(base):
    """About 100 mutuals, 35,000 staff and GBP 1.5bn, half of them outside local government."""
    n = DivestmentModel(base, seeds=[1, 2, 3, 4, 5, 6]).national()
    assert (n.n_mutuals == 100).all() and (n.n_mutuals_outside == 50).all()
    assert n.mutual_staff.mean() == pytest.approx(35_000, rel=0.05)  # local placement is drawn
    assert n.mutual_staff.to_numpy() == pytest.approx(35_000, rel=0.1)
    assert n.mutual_spend_gbp_m.mean() == pytest.approx(1_500, rel=0.05)
    assert (n.mutual_staff_stock == n.mutual_staff).all() and (n.mutual_staff_outside_new == 0).all()


def test_a_2010_start_costs_outside_posts_as_a_2014_start_does(base):
    m = DivestmentModel(base, seed=0)
    cited = base.params["outside.cost_per_post_2014_gbp_k"]
    assert m.o_cost_per_post * 1000 == pytest.approx(cited, rel=1e-3)
    m10 = DivestmentModel(base.with_changes({}, start_year=2010), seed=0)
    assert m10.o_cost_per_post == pytest.approx(m.o_cost_per_post, rel=1e-3)


def test_the_named_spin_outs_keep_their_published_sizes(base):
    m = DivestmentModel(base, seed=0)
    for k, (name, _, _, staff, value, _) in enumerate(NAMED_STOCK):
        if staff is not None:
            assert m.o_staff[0, k] == staff, name
        if value is not None:
            assert m.o_value[0, k] == value, name
    assert (m.o_origin[: m.out_n[0]] == STOCK).all()
    assert m.out_staff[0] == pytest.approx(np.sum(m.o_staff[0]))


@pytest.mark.parametrize("start", [2010, 2014])
def test_no_births_outside_the_dated_programmes_when_every_programme_is_off(base, start):
    """Any support changes nothing when the Right to Provide and central spin-outs are off."""
    changes = {**NO_PROGRAMMES, "outside.rtr_pending_2010": 0, "support.budget_gbp_m_per_year": 100.0}
    sc = base.with_changes(changes, start_year=start, replications=3)
    m = DivestmentModel(sc, seeds=sc.seeds()).run()
    n = m.national()
    assert (n.new_outside_born == 0).all() and (n.mutual_staff_outside_new == 0).all()
    assert (m.o_born[m.o_born > 0] == start).all()  # only the stock ever lived


def test_births_come_only_in_their_programmes_years(base):
    """A 2010 start: the Right to Request wave in 2011 and 2012; the Right to Provide's from 2012."""
    sc = base.with_changes({"outside.central_programme": False}, start_year=2010, end_year=2014)
    m = DivestmentModel(sc, seeds=[5, 6]).run()
    born = m.o_born[m.o_alive & (m.o_born > 2010)]
    origin = np.broadcast_to(m.o_origin, m.o_born.shape)[m.o_alive & (m.o_born > 2010)]
    assert set(born[origin == outside.RIGHT_TO_REQUEST]) <= {2011, 2012}
    assert (born[origin == outside.RIGHT_TO_PROVIDE] >= 2012).all()


@pytest.mark.parametrize("cut", [0.0, -0.05])
def test_contract_values_fall_with_commissioners_budgets_at_renewal(base, cut):
    sc = base.with_changes({**QUIET, **NO_PROGRAMMES, "outside.commissioner_change_per_year": cut})
    m = DivestmentModel(sc, seed=2)
    value = m.o_value.copy()
    ending = m.o_alive & (m.o_end == 2015)
    _step_outside(m)
    assert ending.any()
    np.testing.assert_allclose(m.o_value[ending], value[ending] * (1 + cut))
    np.testing.assert_array_equal(m.o_value[~ending], value[~ending])  # fixed in cash until renewal


@pytest.mark.parametrize("rival", [0.0, 1.0])
def test_staff_and_spend_are_conserved_through_re_procurement(base, rival):
    """Every contract ending is lost: to the largest other mutual (all stays), or out of the sector."""
    lose = {"outside.p_lose_retender": 1.0, "outside.p_rival_mutual_wins": rival}
    changes = {**QUIET, **NO_PROGRAMMES, **lose}
    m = DivestmentModel(base.with_changes(changes), seeds=[1, 2])
    staff, spend, n = m.out_staff.copy(), m.out_spend.copy(), m.out_n.copy()
    ending = (m.o_alive & (m.o_end == 2015)).sum(axis=1)
    year = _step_outside(m)
    pay = m.price[2015] / m.price[2014]  # staff follow spend at the year's cost per post
    out = year.new["outside_staff_out"]
    assert (ending > 0).all() and (m.out_n == n - ending).all()
    if rival:
        np.testing.assert_allclose(m.out_spend, spend)
        np.testing.assert_allclose(m.out_staff * pay, staff)
        assert (out == 0).all()
    else:
        assert (m.out_spend < spend).all()
        np.testing.assert_allclose(m.out_staff * pay + out, staff)  # out at the year's own cost


def test_mergers_keep_staff_and_spend_and_lower_the_count(base):
    changes = {**QUIET, **NO_PROGRAMMES, "outside.p_merge_per_year": 0.3}
    m = DivestmentModel(base.with_changes(changes), seeds=[4])
    staff, spend = m.out_staff.copy(), m.out_spend.copy()
    year = _step_outside(m)
    assert year.new["outside_merged"][0] > 0 and m.out_n[0] == 50 - year.new["outside_merged"][0]
    np.testing.assert_allclose(m.out_spend, spend)
    np.testing.assert_allclose(m.out_staff * m.price[2015] / m.price[2014], staff)


def test_more_support_never_gives_fewer_births_on_common_seeds(base):
    """Births come from uniforms fixed per provider and year: a higher hazard can only add or hasten them."""
    born = []
    for budget in (0.0, 5.0, 20.0):
        sc = base.with_changes({"support.budget_gbp_m_per_year": budget}, replications=6)
        n = DivestmentModel(sc, seeds=sc.seeds()).run().national()
        born.append(n.groupby("batch_index").new_outside_born.sum().to_numpy())
    assert (born[0] <= born[1]).all() and (born[1] <= born[2]).all() and (born[2] > born[0]).any()


def test_more_support_never_gives_fewer_mutuals_in_2020(base):
    means = []
    for budget in (0.0, 5.0, 20.0):
        sc = base.with_changes({"support.budget_gbp_m_per_year": budget}, replications=6)
        n = DivestmentModel(sc, seeds=sc.seeds()).run().national()
        means.append(n[n.year == 2020].n_mutuals.mean())
    assert means[0] <= means[1] <= means[2]


def test_the_pay_freeze_and_the_one_percent_cap_are_in_the_index(base):
    p = base.params
    s, cpi = p["prices.pay_share"], p["prices.cpi_per_year"]
    assert prices.index(p, 2014) == 1.0
    assert prices.index(p, 2012) / prices.index(p, 2011) == pytest.approx(1 + (1 - s) * prices.CPI[2011])
    assert prices.index(p, 2015) == pytest.approx(1 + s * 0.01 + (1 - s) * cpi)
    assert prices.index(p, 2010) < 1.0


def test_a_local_government_contract_is_fixed_in_cash_until_it_is_let_again(base):
    """A divested part's contract ignores the council's cuts until renewal, then takes its budget line."""
    sc = base.with_changes({"funding.path": "flat", "funding.flat_cash_change_per_year": -0.1})
    m = DivestmentModel(sc, seed=3)
    divested = rules.IS_DIVESTED[m.mode] & (m.contract_end > 2016)
    value = m.contract_value.copy()
    for _ in range(2):
        m.step()
    still = divested & rules.IS_DIVESTED[m.mode] & (m.contract_end > 2016)
    assert still.any()
    np.testing.assert_array_equal(m.contract_value[still], value[still])
    f = np.flatnonzero(still)[:5]
    providers.relet(m, f)
    assert (m.contract_value.reshape(-1)[f] < value.reshape(-1)[f]).all()


def test_the_outside_sector_never_shifts_councils_draws(base):
    """Its draws come after the slots' words: changing it leaves every council column bit for bit."""
    busy = {"outside.p_merge_per_year": 0.3, "outside.central_pool": 40, "outside.cohort_2014": 80}
    a = DivestmentModel(base.with_changes({}, end_year=2017), seeds=[7, 8]).run().national()
    b = DivestmentModel(base.with_changes(busy, end_year=2017), seeds=[7, 8]).run().national()
    council = ["n_mutuals_lg", "mutual_staff_lg", "mutual_spend_lg_gbp_m", "n_latcs", "new_divestments"]
    pd.testing.assert_frame_equal(a[council], b[council])
    assert not a.n_mutuals_outside.equals(b.n_mutuals_outside)
