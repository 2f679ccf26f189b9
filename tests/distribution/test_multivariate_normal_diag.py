"""`MultivariateNormalDiag` against scipy."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from lerax.distribution import MultivariateNormalDiag

from .helpers import assert_moments, draw

N_DRAWS = 20_000


def test_log_prob_and_entropy_match_scipy():
    rng = np.random.default_rng(0)
    loc = rng.normal(size=(2, 3)).astype(np.float32)
    scale = np.exp(rng.normal(size=(2, 3))).astype(np.float32)
    values = rng.normal(size=(4, 2, 3)).astype(np.float32)
    dist = MultivariateNormalDiag(loc, scale)
    log_prob, entropy = np.asarray(dist.log_prob(values)), np.asarray(dist.entropy())
    assert log_prob.shape == (4, 2) and entropy.shape == (2,)
    for b in range(2):
        oracle = stats.multivariate_normal(
            loc[b].astype(np.float64), np.diag(scale[b].astype(np.float64) ** 2)
        )
        np.testing.assert_allclose(
            log_prob[:, b], oracle.logpdf(values[:, b]), rtol=1e-5, atol=1e-5
        )
        np.testing.assert_allclose(entropy[b], oracle.entropy(), rtol=1e-5)
    np.testing.assert_array_equal(dist.mean(), loc)
    np.testing.assert_array_equal(dist.mode(), loc)


def test_defaults():
    standard = MultivariateNormalDiag(loc=np.zeros(3, np.float32))
    np.testing.assert_array_equal(standard.scale_diag, np.ones(3))
    centred = MultivariateNormalDiag(scale_diag=np.full((2, 3), 2.0, np.float32))
    np.testing.assert_array_equal(centred.loc, np.zeros((2, 3)))
    oracle = stats.multivariate_normal(np.zeros(3), np.eye(3))
    np.testing.assert_allclose(
        standard.log_prob(np.ones(3)), oracle.logpdf(np.ones(3)), rtol=1e-6
    )
    # scale_diag broadcasts against loc.
    assert MultivariateNormalDiag(
        np.zeros((4, 3)), 2.0 * np.ones(3)
    ).scale_diag.shape == (
        4,
        3,
    )


def test_sample_moments_match(getkey):
    loc = np.array([[-1.0, 0.0], [2.0, 5.0]], np.float32)
    scale = np.array([[0.5, 1.0], [3.0, 0.1]], np.float32)
    samples = draw(MultivariateNormalDiag(loc, scale), getkey(), N_DRAWS)
    assert samples.shape == (N_DRAWS, 2, 2) and samples.dtype == jnp.float32
    assert_moments(samples, loc, scale**2, "MultivariateNormalDiag samples")
    # Coordinates are independent.
    flat = np.asarray(samples).reshape(N_DRAWS, 4)
    correlation = np.corrcoef(flat, rowvar=False)
    assert np.all(np.abs(correlation - np.eye(4)) < 5 / np.sqrt(N_DRAWS))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "at least one"),
        ({"loc": np.float32(0.0)}, "event axis"),
        ({"loc": np.zeros(3), "scale_diag": np.ones(4)}, "must broadcast"),
        ({"scale_diag": -np.ones(2)}, r"`MultivariateNormalDiag\(scale_diag=...\)`"),
        ({"loc": np.zeros(2), "scale_diag": [1.0, 0.0]}, "must be positive"),
        ({"loc": np.zeros(2), "scale_diag": [1.0, np.nan]}, "must be positive"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultivariateNormalDiag(**kwargs)


def test_value_with_wrong_event_size_raises():
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        MultivariateNormalDiag(np.zeros(3)).log_prob(np.zeros(2))
