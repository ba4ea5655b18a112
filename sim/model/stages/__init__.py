"""The stages of the yearly loop, one module each; their order is :data:`sim.model.loop.STAGES`."""
