"""The largest mutuals outside local government known by 2014, by name, with their origins and sizes.

Sources (sim/data/CALIBRATION.md, "Mutuals outside local government, by name"); every figure is dated
2014 or earlier. A size not published by 2014 is None: the provider then takes the average size of the
rest of the stock (an assumption). Money is GBP m a year of contracts; staff are head counts.
"""

from __future__ import annotations

STOCK, RIGHT_TO_REQUEST, RIGHT_TO_PROVIDE, CENTRAL = range(4)
ORIGINS = ("stock", "right_to_request", "right_to_provide", "central")
"""Origin of a provider outside local government: the stock of the start year, or the dated programme of
its birth (the NHS Right to Request waves, 2009-2010, live 2011-2012 with Transforming Community Services;
the Right to Provide and the Mutuals Support Programme, from 2011; central-government spin-outs, from
2012)."""

NAMED_STOCK = (
    # (name, origin programme, year live, staff, contract GBP m a year, source)
    ("Central Surrey Health", "NHS pathfinder", 2006, 700, 20.0,
     "Nursing Times 2011 (more than 700 nurses and therapists); Guardian, 30 Sep 2011 (a 20m NHS contract)"),
    ("Your Healthcare", "Right to Request wave 1", 2010, 550, 25.0,
     "Department of Health, 'Your healthcare - a social enterprise perspective', 2010 (25m, c550 staff)"),
    ("Anglian Community Enterprise", "Right to Request", 2011, 1082, 35.0,
     "bssec.org.uk, 'Anglian Community Enterprise', 2011 (1,082 staff, contracts worth 35m)"),
    ("East Coast Community Healthcare", "Right to Request", 2011, 900, None,
     "Peter Aldous MP, 31 Mar 2014 (more than 900 staff)"),
    ("MyCSP", "central government", 2012, None, None,
     "Civil Service Pension Scheme, Employer Pension Notice 332, 1 May 2012 (a private sector body from 1 May"
     " 2012); wired-gov, 3 Oct 2014 (employee trust 25%)"),
)  # fmt: skip
"""Named members of the 2014 stock outside local government."""

MYCSP_LIVE = 2012
"""MyCSP went live on 1 May 2012: in a 2010 start it is a dated birth of the central-government programme."""
