"""`Categorical` against scipy, plus masking and argument checks."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from scipy import stats

from lerax.distribution import Categorical

from .helpers import assert_frequencies, draw, jit

N_DRAWS = 20_000


def _logits(shape=(2, 3, 5), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_log_prob_and_entropy_match_scipy():
    logits = _logits()
    dist = Categorical(logits=logits)
    probs = _softmax(logits.astype(np.float64))
    labels = np.broadcast_to(np.arange(5)[:, None, None], (5, 2, 3))
    log_prob = np.asarray(dist.log_prob(labels))
    assert log_prob.shape == (5, 2, 3)
    for i in range(2):
        for j in range(3):
            oracle = stats.rv_discrete(values=(np.arange(5), probs[i, j]))
            np.testing.assert_allclose(
                log_prob[:, i, j], oracle.logpmf(np.arange(5)), rtol=1e-5
            )
    np.testing.assert_allclose(dist.entropy(), stats.entropy(probs, axis=-1), rtol=1e-5)
    np.testing.assert_allclose(dist.probs, probs, rtol=1e-5)
    np.testing.assert_allclose(dist.logits, np.log(probs), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(dist.mode(), probs.argmax(axis=-1))


def test_probs_are_normalised_and_equivalent_to_logits():
    weights = np.array([[1.0, 3.0, 0.0, 4.0], [2.0, 2.0, 2.0, 2.0]], np.float32)
    from_probs = Categorical(probs=weights)
    with np.errstate(divide="ignore"):
        from_logits = Categorical(logits=np.log(weights))
    expected = weights / weights.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(from_probs.probs, expected, rtol=1e-6)
    np.testing.assert_allclose(from_logits.probs, expected, rtol=1e-6)
    # A zero-probability label: log-prob -inf, no NaN in the entropy.
    assert from_probs.log_prob(jnp.array([2, 0]))[0] == -np.inf
    np.testing.assert_allclose(
        from_probs.entropy(), stats.entropy(expected, axis=-1), rtol=1e-6
    )


def test_out_of_range_labels_have_zero_probability():
    dist = Categorical(logits=np.zeros(3, np.float32))
    np.testing.assert_allclose(
        dist.log_prob(jnp.array([-1, 3, 1])),
        [-np.inf, -np.inf, np.log(1 / 3)],
        rtol=1e-6,
    )


def test_fractional_labels_have_zero_probability_as_in_scipy():
    # a float label that is not a whole number is outside the support (it
    # used to be truncated: 1.5 got label 1's probability); whole floats count
    probs = np.array([0.2, 0.3, 0.5])
    dist = Categorical(probs=probs.astype(np.float32))
    oracle = stats.rv_discrete(values=(np.arange(3), probs))
    labels = np.array([1.5, 2.0, 0.0, -0.5, 2.999, 1.0], np.float32)
    expected = oracle.logpmf(labels)
    assert np.isneginf(expected[[0, 3, 4]]).all()
    np.testing.assert_allclose(dist.log_prob(labels), expected, rtol=1e-6)
    np.testing.assert_allclose(
        jit(lambda d, x: d.log_prob(x))(dist, labels), expected, rtol=1e-6
    )


def test_sample_frequencies_match_probs(getkey):
    logits = _logits((2, 4))
    dist = Categorical(logits=logits)
    samples = draw(dist, getkey(), N_DRAWS)
    assert samples.shape == (N_DRAWS, 2) and samples.dtype == jnp.int32
    assert_frequencies(samples, _softmax(logits.astype(np.float64)))


def test_mask_excludes_labels(getkey):
    logits = np.array([[0.5, 2.0, 1.0, -1.0], [0.0, 0.0, 3.0, 0.0]], np.float32)
    mask = np.array([[True, False, True, True], [True, True, False, False]])
    dist = Categorical(logits=logits).mask(mask)
    assert isinstance(dist, Categorical)
    # Renormalised over the allowed labels only.
    expected = np.where(mask, _softmax(np.where(mask, logits, -np.inf)), 0.0)
    np.testing.assert_allclose(dist.probs, expected, rtol=1e-6, atol=1e-7)
    # Masked labels: log-prob -inf; never the mode, though they had the largest logit.
    log_probs = dist.log_prob(np.arange(4)[:, None])
    assert np.all(np.asarray(log_probs).T[~mask] == -np.inf)
    np.testing.assert_array_equal(dist.mode(), [2, 0])
    np.testing.assert_allclose(
        dist.entropy(),
        [stats.entropy(expected[0][mask[0]]), stats.entropy(expected[1][mask[1]])],
        rtol=1e-6,
    )
    samples = np.asarray(draw(dist, getkey(), N_DRAWS))
    assert not np.any(~mask[np.arange(2), samples])
    assert_frequencies(samples, expected)


def test_mask_gradients_are_finite():
    logits = jnp.array([0.5, 2.0, 1.0, -1.0])
    mask = jnp.array([True, False, True, False])

    def entropy(logits):
        return Categorical(logits=logits).mask(mask).entropy()

    def log_prob(logits):
        return Categorical(logits=logits).mask(mask).log_prob(2)

    for f in (entropy, log_prob):
        grad = jit(jax.grad(f))(logits)
        assert np.all(np.isfinite(grad))
        np.testing.assert_array_equal(np.asarray(grad)[~np.asarray(mask)], 0.0)
        assert np.all(np.abs(np.asarray(grad)[np.asarray(mask)]) > 1e-3)
    # d log p(2) / d logits = onehot(2) - p over the allowed set.
    p = _softmax(np.array([0.5, 1.0]))
    np.testing.assert_allclose(
        jax.grad(log_prob)(logits), [-p[0], 0.0, 1 - p[1], 0.0], rtol=1e-5
    )


def test_mask_broadcasts_and_degenerate_rows_stay_unmasked():
    logits = _logits((3, 4))
    dist = Categorical(logits=logits).mask(np.array([True, True, False, True]))
    assert dist.logits.shape == (3, 4)
    assert np.all(np.asarray(dist.probs)[:, 2] == 0.0)
    # A row with nothing allowed keeps its distribution instead of becoming NaN.
    rows = np.array([[False] * 4, [True, False, False, False], [True] * 4])
    masked = Categorical(logits=logits).mask(rows)
    np.testing.assert_allclose(masked.probs[0], _softmax(logits[0]), rtol=1e-5)
    np.testing.assert_allclose(masked.probs[1], [1.0, 0.0, 0.0, 0.0])
    assert np.all(np.isfinite(masked.entropy()))


def test_mask_works_under_jit_and_vmap(getkey):
    logits = jnp.asarray(_logits((6, 4)))
    masks = (
        jnp.asarray(np.random.default_rng(1).random((6, 4)) < 0.5).at[:, 0].set(True)
    )

    @jit
    def run(logits, mask, key):
        dist = Categorical(logits=logits).mask(mask)
        return dist.sample(key), dist.log_prob(dist.mode()), dist.entropy()

    out = jax.vmap(run)(logits, masks, jr.split(getkey(), 6))
    for i in range(6):
        single = Categorical(logits=logits[i]).mask(masks[i])
        assert masks[i, out[0][i]]
        np.testing.assert_allclose(out[1][i], single.log_prob(single.mode()), rtol=1e-5)
        np.testing.assert_allclose(out[2][i], single.entropy(), rtol=1e-5)


def test_mean_is_not_meaningful():
    with pytest.raises(NotImplementedError, match="mode"):
        Categorical(logits=jnp.zeros(3)).mean()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "exactly one"),
        ({"logits": np.zeros(3), "probs": np.ones(3)}, "exactly one"),
        ({"logits": np.float32(1.0)}, r"shape \(\)"),
        ({"probs": np.zeros((2, 0))}, "at least one label"),
        ({"probs": np.zeros(2)}, r"`Categorical\(probs=...\)`.*positive sum"),
        ({"probs": [[1.0, 1.0], [0.0, 0.0]]}, "positive sum"),
        ({"probs": [-1.0, 2.0]}, "non-negative"),
        ({"probs": [1.0, np.inf]}, "finite"),
        ({"probs": [1.0, np.nan]}, "finite"),
        # a row of float32 subnormals is all zeros to XLA: it gave NaN logits
        ({"probs": [[1.0, 2.0], [1e-45, 3e-40]]}, r"smallest normal float32"),
        ({"logits": [np.inf, 0.0]}, r"`Categorical\(logits=...\)`.*\+inf"),
        ({"logits": np.array([0.0, np.nan])}, "NaN"),
        # a row of -inf logits has zero total probability, as probs=[0, 0]
        ({"logits": [-np.inf, -np.inf]}, r"`Categorical\(logits=...\)`.*every row"),
        ({"logits": np.array([[0.0, -np.inf], [-np.inf, -np.inf]])}, "every row"),
        # arguments that are not arrays name the argument
        ({"logits": None, "probs": [[1.0], [1.0, 2.0]]}, r"`Categorical\(probs="),
        ({"logits": [[1.0], [1.0, 2.0]]}, r"`Categorical\(logits=...\)`.*array"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Categorical(**kwargs)


def test_minus_inf_logits_and_traced_parameters_are_accepted():
    # -inf is a label of probability zero; JAX arrays are never checked (no
    # checks inside jit), invalid traced values give NaN.
    np.testing.assert_array_equal(
        Categorical(logits=[-np.inf, 0.0]).probs, np.array([0.0, 1.0], np.float32)
    )
    logits = jit(lambda p: Categorical(probs=p).logits)(jnp.zeros(2))
    assert np.all(np.isnan(logits))


def test_probs_gradients_are_exact_at_zero_probabilities():
    # log p_k = log w_k - log sum(w): d/dw_j = [j == k] / w_k - 1 / sum(w),
    # finite also for w_j = 0 (normalised in probability space).
    def grad(weights, label):
        return np.asarray(
            jit(jax.grad(lambda w: Categorical(probs=w).log_prob(label)))(
                jnp.asarray(weights, jnp.float32)
            )
        )

    np.testing.assert_allclose(grad([1.0, 0.0], 0), [0.0, -1.0], atol=1e-7)
    np.testing.assert_allclose(
        grad([2.0, 0.0, 1.0], 0), [1 / 2 - 1 / 3, -1 / 3, -1 / 3], rtol=1e-6
    )
    # the zero-probability label itself (log 0 = -inf): finite gradients
    assert np.all(np.isfinite(grad([1.0, 0.0], 1)))
    entropy_grad = jit(jax.grad(lambda w: Categorical(probs=w).entropy()))(
        jnp.array([1.0, 0.0])
    )
    assert np.all(np.isfinite(entropy_grad))


def test_probs_whose_sum_overflows_float32_are_normalised_as_scipy():
    # the float32 sum of [1e38, 3e38] is inf: every log-probability was -inf
    # (and the entropy 0); scipy normalises in float64
    weights = np.array([[1e38, 3e38, 0.0], [3e38, 3e38, 3e38]], np.float32)
    dist = Categorical(probs=weights)
    expected = weights.astype(np.float64)
    expected = expected / expected.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(dist.logits, np.log(expected), rtol=1e-5)
    np.testing.assert_allclose(
        dist.entropy(), [stats.entropy(p) for p in expected], rtol=1e-5
    )
    grad = jit(jax.grad(lambda w: Categorical(probs=w).log_prob(1)))(
        jnp.asarray(weights[0])
    )
    assert np.all(np.isfinite(grad))
    # float16 overflows at 65504: weights of a few 1e4 are enough
    half = Categorical(probs=np.array([4e4, 4e4, 0.0], np.float16))
    assert half.logits.dtype == np.float16
    np.testing.assert_allclose(
        np.asarray(half.logits[:2], np.float64), np.log(0.5), atol=0.02
    )


@pytest.mark.parametrize("shape", [(3,), (2, 5), ()])
def test_bad_mask_shapes_raise(shape):
    dist = Categorical(logits=np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)|broadcast"):
        dist.mask(np.ones(shape, bool))
