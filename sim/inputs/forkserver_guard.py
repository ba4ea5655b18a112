"""Imported first by every fork server the program starts: the server ends with the command.

A fork server (:mod:`sim.experiments.pool`, :func:`sim.evidence.abc_mcmc._pool`) is a child of the
command; importing this module there asks the kernel to kill it when the command ends, even by SIGKILL
(:func:`sim.inputs.lifetime.die_with_parent`), instead of when it next looks at its pipe (after its
seconds of imports), and points its standard output and error at ``/dev/null``, so a pipeline reading the
command ends with it. Workers forked from the server start without the request (the kernel clears it on
fork); they watch their parent themselves (:func:`sim.experiments.sweep._exit_with_parent`, and a pool's
task pipe). Never import this module in the command's own process.
"""

from sim.inputs.lifetime import detach_stdio, die_with_parent

die_with_parent()
detach_stdio()
