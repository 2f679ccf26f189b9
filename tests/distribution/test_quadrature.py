"""The Gaussian expectations behind the squashed entropy and mean, vs scipy."""

import jax
import numpy as np
from scipy import integrate, stats

from lerax.distribution import _quadrature

LOCS = np.array([-8.0, -2.0, -0.3, 0.0, 0.5, 1.0, 4.0])
SCALES = np.array([0.01, 0.2, 0.7, 0.999, 1.0, 1.5, 3.0, 10.0, 40.0])


def _expect(f, loc, scale):
    """E[f(X)], X ~ N(loc, scale^2), by adaptive quadrature in float64."""
    kink = [-loc / scale] if abs(loc / scale) < 12 else None
    value, _ = integrate.quad(
        lambda z: f(loc + scale * z) * stats.norm.pdf(z),
        -12,
        12,
        points=kink,
        limit=500,
        epsabs=1e-12,
    )
    return value


def _log_dtanh(x):
    return -2.0 * (np.logaddexp(x, -x) - np.log(2.0))


def test_expectations_match_adaptive_quadrature():
    loc, scale = np.meshgrid(LOCS, SCALES, indexing="ij")
    loc32, scale32 = loc.astype(np.float32), scale.astype(np.float32)
    tanh, log_dtanh = jax.jit(
        lambda m, s: (
            _quadrature.expected_tanh(m, s),
            _quadrature.expected_log_dtanh(m, s),
        )
    )(loc32, scale32)
    ref_tanh = np.vectorize(lambda m, s: _expect(np.tanh, m, s))(loc32, scale32)
    ref_log = np.vectorize(lambda m, s: _expect(_log_dtanh, m, s))(loc32, scale32)
    np.testing.assert_allclose(tanh, ref_tanh, atol=2e-6)
    np.testing.assert_allclose(log_dtanh, ref_log, rtol=2e-6, atol=2e-5)


def test_log_dtanh_is_stable():
    x = np.array([-100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0], np.float32)
    expected = np.log(1 / np.cosh(x.astype(np.float64)) ** 2)
    np.testing.assert_allclose(_quadrature.log_dtanh(x), expected, rtol=1e-6)
