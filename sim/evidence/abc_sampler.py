"""pyabc pieces: a seeded sampler (same seed, same posterior) and a kernel for tens of parameters.

The sampler's populations depend only on the seed, whatever the number of workers; the perturbation
kernel stays well defined with tens of parameters.

pyabc's own multicore samplers reseed each worker from the operating system and accept particles in
the order they finish, so two runs differ. :class:`OrderedSampler` instead gives evaluation ``i`` of
generation ``t`` its own seed (``[seed, t + 2, i]`` for NumPy's and Python's global generators, which
pyabc's proposals and the model's seed draw use), evaluates fixed batches of evaluations in this process
or on a fork pool of ``workers`` processes (started once per generation, never once per simulation), and
keeps them in index order up to the ``n``-th accepted: exactly what one process evaluating one by one
would keep. Batches are larger than needed, so up to a batch of evaluations per generation is wasted;
``nr_evaluations_`` counts those up to the last one kept, as a sequential sampler would.
"""

from __future__ import annotations

import multiprocessing
import random
from collections.abc import Callable

import numpy as np
import pandas as pd
from pyabc import Parameter
from pyabc.sampler import Sampler
from pyabc.transition import Transition
from scipy.special import logsumexp

_SIMULATE: Callable | None = None
"""The generation's ``simulate_one``, set before the pool forks (so it is never pickled)."""
_SEED: tuple[int, int] = (0, 0)


def _evaluate(i: int):
    seed, t = _SEED
    np.random.seed([seed, t + 2, i])  # noqa: NPY002  (pyabc draws from NumPy's global generator)
    random.seed(f"{seed}-{t}-{i}")
    return _SIMULATE()


class OrderedSampler(Sampler):
    """Deterministic batched sampling (see the module docstring).

    Args:
        seed: the calibration's seed.
        workers: processes evaluating (1: this process).
        batch: evaluations per round (the particles kept do not depend on it; only the evaluations
            wasted at the end of a generation do).
        progress: called after each generation with (t, accepted, evaluations, epsilon).
    """

    def __init__(
        self,
        seed: int,
        workers: int = 1,
        batch: int = 64,
        progress: Callable[[int, int, int, float], None] | None = None,
    ):
        super().__init__()
        self.seed, self.workers, self.batch, self.progress = int(seed), int(workers), int(batch), progress

    def sample_until_n_accepted(
        self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
    ):
        """Evaluate batches of seeded evaluations until ``n`` are accepted (kept in index order)."""
        global _SIMULATE, _SEED
        _SIMULATE, _SEED = simulate_one, (self.seed, int(t))
        sample = self._create_empty_sample()
        pool = None
        if self.workers > 1:
            pool = multiprocessing.get_context("fork").Pool(self.workers)
        try:
            done = accepted = 0
            while accepted < n and done < max_eval:
                size = int(min(self.batch, max_eval - done)) if np.isfinite(max_eval) else self.batch
                indices = range(done, done + size)
                if pool is None:
                    particles = [_evaluate(i) for i in indices]
                else:
                    particles = pool.map(_evaluate, indices, chunksize=max(1, size // (4 * self.workers)))
                for particle in particles:
                    done += 1
                    sample.append(particle)
                    accepted += bool(particle.accepted)
                    if accepted >= n:
                        break
        finally:
            if pool is not None:
                pool.close()
                pool.join()
            _SIMULATE = None
        self.nr_evaluations_ = done
        if sample.n_accepted < n:
            sample.ok = False
        if self.progress is not None:
            eps = float(ana_vars.eps(t)) if ana_vars is not None and t >= 0 else float("nan")
            self.progress(int(t), sample.n_accepted, done, eps)
        return sample


class ShrunkNormalTransition(Transition):
    """A mixture of Gaussian kernels around the particles, with a shrunk covariance and a log-space pdf.

    pyabc's multivariate normal kernel takes the weighted covariance of the particles as it is: with tens
    of parameters and uneven weights it is near singular and its density underflows to 0 (an infinite
    importance weight). Here the covariance is ``scale`` x ((1 - shrink) C + shrink diag(C)) (twice the
    weighted covariance, as Beaumont et al. 2009 recommend for a Gaussian kernel, shrunk towards its
    diagonal), and the density is summed with logsumexp. A share ``defensive`` of proposals comes from
    the prior itself (independent standard logistics: the parameters' logits, :mod:`sim.evidence.abc`),
    a defensive mixture (Hesterberg 1995) that bounds every importance weight by 1 / ``defensive``:
    with tens of parameters the weights of a kernel alone collapse onto a few particles.
    """

    def __init__(self, shrink: float = 0.2, scale: float = 2.0, defensive: float = 0.1):
        self.shrink, self.scale, self.defensive = shrink, scale, defensive

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        """Fit the kernel to the weighted particles."""
        self._X = X.to_numpy(dtype=float)
        self._w = np.asarray(w, dtype=float) / np.sum(w)
        mean = self._w @ self._X
        dev = self._X - mean
        cov = (dev * self._w[:, None]).T @ dev / max(1e-12, 1.0 - np.sum(self._w**2))
        cov = (1 - self.shrink) * cov + self.shrink * np.diag(np.diag(cov))
        cov = self.scale * cov + 1e-10 * np.eye(len(cov))
        self._L = np.linalg.cholesky(cov)
        self._log_norm = -0.5 * len(cov) * np.log(2 * np.pi) - np.sum(np.log(np.diag(self._L)))

    def rvs_single(self) -> Parameter:
        """One draw: a particle by weight, perturbed by the kernel."""
        d = self._X.shape[1]
        if np.random.random() < self.defensive:  # noqa: NPY002  (seeded per evaluation, as pyabc's own)
            x = np.random.logistic(size=d)  # noqa: NPY002
        else:
            j = np.random.choice(len(self._w), p=self._w)  # noqa: NPY002
            x = self._X[j] + self._L @ np.random.normal(size=d)  # noqa: NPY002
        return Parameter(dict(zip(self.X.columns, x, strict=True)))

    def pdf(self, x):
        """Density at a parameter (float) or at each row of a DataFrame (array)."""
        if isinstance(x, Parameter | pd.Series):
            arr = np.array([[x[k] for k in self.X.columns]], dtype=float)
        else:
            arr = x[self.X.columns].to_numpy(dtype=float)
        out = np.empty(len(arr))
        for i, xi in enumerate(arr):
            z = np.linalg.solve(self._L, (xi - self._X).T)  # (d, n)
            kernel = logsumexp(self._log_norm - 0.5 * np.sum(z * z, axis=0), b=self._w)
            prior = np.sum(-xi - 2.0 * np.log1p(np.exp(-xi)))  # standard logistic log density
            out[i] = np.exp(np.logaddexp(np.log1p(-self.defensive) + kernel, np.log(self.defensive) + prior))
        return float(out[0]) if isinstance(x, Parameter | pd.Series) else out
