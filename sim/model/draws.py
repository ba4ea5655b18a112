"""The layout of the block of uniforms each year draws: one row (or rows) per random decision.

Every row is drawn every year whether used or not (shape ``(N_DRAW_ROWS, n_slots)`` per replication), so
a slot's draw for a decision never depends on other slots, on the policy arm or on the batch.
"""

U_REVIEW = 0
"""Whether a service is reviewed this year."""
U_PROPOSAL = 1
"""Whether staff propose a mutual."""
U_NOISE = 2
"""Five rows: the appraisal's noise, one per option (rows 2-6)."""
U_SUPPORT = 7
"""Whether a reviewed service gets a place on the support programme."""
U_ABANDON = 8
"""Whether a pending transition is abandoned this year."""
U_JOIN = 9
"""Whether a divestment joins an existing provider."""
U_CONTRACT = 10
"""Whether a contract ending returns in-house."""
U_READY = 11
"""Whether an in-house service without a ready staff team gains one (the pool of ready teams)."""
U_FAIL = 12
"""Six rows from here: failure draws indexed by provider id (mode * n_slots + founding slot)."""
N_DRAW_ROWS = U_FAIL + 6
