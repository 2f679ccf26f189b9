"""`MultiCategorical` as a product of scipy categoricals, plus masks and checks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from lerax.distribution import MultiCategorical

from .helpers import assert_frequencies, draw, jit

N_DRAWS = 20_000
DIMS = (2, 4, 3)


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _blocks(batch=(2,), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=batch + (n,)).astype(np.float32) for n in DIMS]


def test_flat_and_list_parameters_agree():
    blocks = _blocks()
    flat = MultiCategorical(logits=np.concatenate(blocks, axis=-1), action_dims=DIMS)
    listed = MultiCategorical(logits=blocks)
    listed_checked = MultiCategorical(logits=tuple(blocks), action_dims=list(DIMS))
    weights = [np.exp(b) * 3.0 for b in blocks]
    from_probs = MultiCategorical(probs=weights)
    from_flat_probs = MultiCategorical(
        probs=np.concatenate(weights, axis=-1), action_dims=np.array(DIMS)
    )
    expected = np.concatenate([_softmax(b.astype(np.float64)) for b in blocks], -1)
    for dist in (flat, listed, listed_checked, from_probs, from_flat_probs):
        assert dist.action_dims == DIMS
        assert dist.logits.shape == (2, sum(DIMS))
        np.testing.assert_allclose(dist.probs, expected, rtol=1e-5)


def test_flat_python_list_is_a_flat_array():
    flat = [0.0, 1.0, 2.0, 0.5, -np.inf]
    from_list = MultiCategorical(logits=flat, action_dims=[3, 2])
    from_array = MultiCategorical(logits=np.array(flat), action_dims=[3, 2])
    np.testing.assert_array_equal(from_list.logits, from_array.logits)
    expected = np.concatenate(
        [special.log_softmax(flat[:3]), special.log_softmax(flat[3:])]
    )
    np.testing.assert_allclose(from_list.logits, expected, rtol=1e-6)
    probs = MultiCategorical(probs=[1.0, 3.0, 0.0, 2.0], action_dims=(2, 2)).probs
    np.testing.assert_allclose(probs, [0.25, 0.75, 0.0, 1.0], rtol=1e-6)


def test_log_prob_and_entropy_are_sums_over_scipy_categoricals():
    blocks = _blocks(batch=(2, 3))
    dist = MultiCategorical(logits=blocks)
    probs = [_softmax(b.astype(np.float64)) for b in blocks]
    rng = np.random.default_rng(1)
    values = np.stack([rng.integers(0, n, size=(5, 2, 3)) for n in DIMS], axis=-1)
    log_prob = np.asarray(dist.log_prob(values))
    assert log_prob.shape == (5, 2, 3)
    expected = np.zeros((5, 2, 3))
    entropy = np.zeros((2, 3))
    for i in range(2):
        for j in range(3):
            for d, n in enumerate(DIMS):
                oracle = stats.rv_discrete(values=(np.arange(n), probs[d][i, j]))
                expected[:, i, j] += oracle.logpmf(values[:, i, j, d])
                entropy[i, j] += oracle.entropy()
    np.testing.assert_allclose(log_prob, expected, rtol=1e-5)
    np.testing.assert_allclose(dist.entropy(), entropy, rtol=1e-5)
    np.testing.assert_array_equal(
        dist.mode(), np.stack([p.argmax(axis=-1) for p in probs], axis=-1)
    )
    # A label beyond its own dimension's size has probability zero.
    assert dist.log_prob(np.array([0, 0, 3]))[0, 0] == -np.inf
    assert dist.log_prob(np.array([2, 0, 0]))[0, 0] == -np.inf


def test_sample_frequencies_match_each_dimension(getkey):
    blocks = _blocks()
    dist = MultiCategorical(logits=blocks)
    samples = np.asarray(draw(dist, getkey(), N_DRAWS))
    assert samples.shape == (N_DRAWS, 2, 3) and samples.dtype == np.int32
    for d, block in enumerate(blocks):
        assert_frequencies(samples[..., d], _softmax(block.astype(np.float64)))


def _mask_layouts():
    per_dim = [
        np.array([True, False]),
        np.array([False, True, True, False]),
        np.array([True, True, True]),
    ]
    flat = np.concatenate(per_dim)
    padded = np.zeros((3, 4), bool)
    for d, m in enumerate(per_dim):
        padded[d, : len(m)] = m
    padded[0, 3] = True  # beyond action_dims[0]: ignored
    return per_dim, {"list": per_dim, "flat": flat, "padded": padded}


@pytest.mark.parametrize("layout", ["list", "flat", "padded"])
def test_mask_layouts(layout, getkey):
    per_dim, layouts = _mask_layouts()
    blocks = _blocks()
    dist = MultiCategorical(logits=blocks).mask(layouts[layout])
    assert isinstance(dist, MultiCategorical) and dist.action_dims == DIMS
    kept = [
        np.where(m, _softmax(np.where(m, b, -np.inf)), 0.0)
        for m, b in zip(per_dim, blocks)
    ]
    np.testing.assert_allclose(dist.probs, np.concatenate(kept, -1), atol=1e-6)
    np.testing.assert_allclose(
        dist.entropy(),
        sum(stats.entropy(k, axis=-1) for k in kept),
        rtol=1e-5,
    )
    mode = np.asarray(dist.mode())
    samples = np.asarray(draw(dist, getkey(), N_DRAWS))
    for d, m in enumerate(per_dim):
        assert np.all(m[mode[..., d]])
        assert np.all(m[samples[..., d]])
    assert np.all(np.asarray(dist.log_prob(np.array([1, 0, 0]))) == -np.inf)
    assert np.all(np.isfinite(dist.log_prob(np.array([0, 1, 2]))))


def test_mask_gradients_are_finite():
    flat = jnp.asarray(np.concatenate(_blocks(batch=()), -1))
    _, layouts = _mask_layouts()
    mask = jnp.asarray(layouts["flat"])

    def objective(flat):
        dist = MultiCategorical(logits=flat, action_dims=DIMS).mask(mask)
        return dist.entropy() + dist.log_prob(jnp.array([0, 2, 1]))

    grad = np.asarray(jit(jax.grad(objective))(flat))
    assert np.all(np.isfinite(grad))
    np.testing.assert_array_equal(grad[~layouts["flat"]], 0.0)
    assert np.all(np.abs(grad[layouts["flat"]][1:]) > 1e-4)


def test_mask_under_vmap(getkey):
    flat = jnp.asarray(np.random.default_rng(2).normal(size=(5, sum(DIMS))))
    masks = jnp.asarray(np.random.default_rng(3).random((5, sum(DIMS))) < 0.5)
    masks = masks.at[:, jnp.array([0, 2, 6])].set(True)

    @jit
    @jax.vmap
    def run(flat, mask, key):
        dist = MultiCategorical(logits=flat, action_dims=DIMS).mask(mask)
        return dist.sample(key)

    samples = np.asarray(run(flat, masks, jax.random.split(getkey(), 5)))
    offsets = np.array([0, 2, 6])
    assert np.all(np.asarray(masks)[np.arange(5)[:, None], offsets + samples])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "exactly one"),
        ({"logits": np.zeros(3), "probs": np.ones(3)}, "exactly one"),
        ({"logits": np.zeros(5)}, "needs `action_dims`"),
        ({"logits": np.zeros(5), "action_dims": (2, 2)}, "sum"),
        ({"logits": np.zeros(5), "action_dims": (5, 0)}, "positive ints"),
        ({"logits": np.zeros(5), "action_dims": np.array([2.5, 2.5])}, "positive ints"),
        ({"logits": [np.zeros(2), np.zeros(3)], "action_dims": (3, 2)}, "not match"),
        ({"logits": []}, "at least one"),
        ({"logits": [np.zeros((2, 2)), np.zeros((3, 3))]}, "broadcast"),
        # concrete parameters are checked block by block
        ({"probs": np.array([1.0, 1.0, 0.0, 0.0]), "action_dims": (2, 2)}, "sum"),
        ({"probs": [np.ones(2), np.array([-1.0, 2.0])]}, "non-negative"),
        # float32 subnormals are zeros to XLA: the block's logits were NaN
        ({"probs": [1.0, 1.0, 1e-45, 1e-45], "action_dims": (2, 2)}, "normal float32"),
        ({"logits": np.array([0.0, 0.0, np.inf]), "action_dims": (1, 2)}, "inf"),
        # a block of -inf logits has zero total probability
        (
            {"logits": np.array([0.0, 1.0, -np.inf, -np.inf]), "action_dims": (2, 2)},
            "every row",
        ),
        ({"logits": [np.zeros(2), np.full(2, -np.inf)]}, "every row"),
        ({"logits": [0.0, 1.0, -np.inf, -np.inf], "action_dims": (2, 2)}, "every row"),
        ({"logits": [0.0, 1.0, 2.0], "action_dims": (2, 2)}, "sum"),
        ({"logits": [np.zeros(2), 1.0]}, "label axis in each"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiCategorical(**kwargs)


def test_probs_gradients_are_exact_at_zero_probabilities():
    # As for `Categorical`, block by block: d/dw_j log p_k = [j == k] / w_k -
    # 1 / sum(block), finite where w_j = 0.
    def log_prob(weights):
        dist = MultiCategorical(probs=weights, action_dims=(2, 3))
        return dist.log_prob(jnp.array([0, 2]))

    grad = jit(jax.grad(log_prob))(jnp.array([1.0, 0.0, 0.0, 1.0, 1.0]))
    np.testing.assert_allclose(
        grad, [0.0, -1.0, -1 / 2, -1 / 2, 1 - 1 / 2], rtol=1e-6, atol=1e-7
    )


def test_probs_whose_sum_overflows_float32_are_normalised_per_block():
    # a block summing beyond float32's range gave -inf log-probabilities
    weights = np.array([1e38, 3e38, 1.0, 1.0, 2.0], np.float32)
    dist = MultiCategorical(probs=weights, action_dims=(2, 3))
    expected = np.log([0.25, 0.75, 0.25, 0.25, 0.5])
    np.testing.assert_allclose(dist.logits, expected, rtol=1e-5)
    np.testing.assert_allclose(
        dist.log_prob(jnp.array([1, 2])), np.log(0.75) + np.log(0.5), rtol=1e-5
    )


@pytest.mark.parametrize(
    "mask",
    [
        np.ones(8, bool),
        np.ones((3, 3), bool),
        [np.ones(2, bool), np.ones(4, bool)],
        [np.ones(2, bool), np.ones(3, bool), np.ones(3, bool)],
    ],
)
def test_bad_masks_raise(mask):
    dist = MultiCategorical(logits=np.zeros(9), action_dims=DIMS)
    with pytest.raises(ValueError, match=r"flat mask \(\.\.\., 9\)"):
        dist.mask(mask)


def test_value_with_wrong_length_raises():
    dist = MultiCategorical(logits=np.zeros(9), action_dims=DIMS)
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        dist.log_prob(np.zeros(2, np.int32))


def test_mean_is_not_meaningful():
    with pytest.raises(NotImplementedError, match="not meaningful"):
        MultiCategorical(logits=np.zeros(9), action_dims=DIMS).mean()
