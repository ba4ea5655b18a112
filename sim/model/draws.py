"""The layout of the block of uniforms each year draws: one row (or rows) per random decision.

Every row is drawn every year whether used or not (shape ``(N_DRAW_ROWS, n_slots)`` per replication), so
a slot's draw for a decision never depends on other slots, on the policy arm or on the batch.
"""

from sim.model.rules import N_OPTIONS

U_REVIEW = 0
"""Whether a service part is reviewed this year."""
U_PROPOSAL = 1
"""Whether staff propose a mutual."""
U_NOISE = 2
"""N_OPTIONS rows: the appraisal's noise, one per option."""
U_SUPPORT = U_NOISE + N_OPTIONS
"""Whether a reviewed part gets a place on the support programme."""
U_ABANDON = U_SUPPORT + 1
"""Whether a pending transition is abandoned this year."""
U_JOIN = U_ABANDON + 1
"""Whether a divestment joins an existing provider."""
U_CONTRACT = U_JOIN + 1
"""What happens at a contract's end: back in-house, lost at re-tender, or renewed."""
U_WINNER = U_CONTRACT + 1
"""Who wins a lost re-tender: a contractor or the largest other provider of the incumbent's kind."""
U_READY = U_WINNER + 1
"""Whether an in-house part without a ready staff team gains one (the pool of ready teams)."""
U_FAIL = U_READY + 1
"""Failure of the provider founded by the slot (indexed by founding slot; shifted by mode, see
:func:`sim.model.stages.providers.provider_draw`)."""
U_TAKEOVER = U_FAIL + 1
"""Takeover of the provider founded by the slot (indexed as U_FAIL)."""
N_DRAW_ROWS = U_TAKEOVER + 1
