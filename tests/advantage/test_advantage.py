"""Advantage estimators against plain Python loops."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lerax.advantage import (
    GAE,
    AbstractAdvantageEstimator,
    BootstrappedReturn,
    NStepReturn,
    discounted_returns,
)


def _data(seed=0, T=17, batch=(3,)):
    rng = np.random.default_rng(seed)
    rewards = rng.normal(size=(T, *batch)).astype(np.float32)
    values = rng.normal(size=(T, *batch)).astype(np.float32)
    dones = rng.random((T, *batch)) < 0.2
    last = rng.normal(size=batch).astype(np.float32)
    return rewards, values, dones, last


def _gae_loop(r, v, d, last, gamma, lam):
    T = len(r)
    adv = np.zeros_like(r)
    acc = np.zeros_like(last)
    for t in reversed(range(T)):
        nv = last if t == T - 1 else v[t + 1]
        delta = r[t] + gamma * nv * (1 - d[t]) - v[t]
        acc = delta + gamma * lam * (1 - d[t]) * acc
        adv[t] = acc
    return adv, adv + v


def _nstep_loop(r, v, d, last, gamma, n):
    T = len(r)
    out = np.zeros_like(r)
    for b in range(r.shape[1]):
        for t in range(T):
            total, disc, ended = 0.0, 1.0, False
            for k in range(n):
                if t + k >= T:
                    break
                total += disc * r[t + k, b]
                disc *= gamma
                if d[t + k, b]:
                    ended = True
                    break
            if not ended:
                j = t + n
                boot = last[b] if j >= T else v[j, b]
                total += disc * boot
            out[t, b] = total
    return out


@pytest.mark.parametrize("gamma, lam", [(0.99, 0.95), (0.9, 1.0), (0.5, 0.0)])
def test_gae_matches_loop(gamma, lam):
    r, v, d, last = _data()
    adv, ret = GAE(gamma=gamma, gae_lambda=lam)(r, v, d, last)
    adv_ref, ret_ref = _gae_loop(r, v, d, last, gamma, lam)
    np.testing.assert_allclose(adv, adv_ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ret, ret_ref, rtol=1e-5, atol=1e-5)


def test_bootstrapped_return_equals_gae_lambda_one():
    r, v, d, last = _data(1)
    adv, ret = BootstrappedReturn(gamma=0.97)(r, v, d, last)
    adv_g, ret_g = GAE(gamma=0.97, gae_lambda=1.0)(r, v, d, last)
    np.testing.assert_allclose(ret, ret_g, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(adv, adv_g, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", [1, 3, 40])
def test_nstep_matches_loop(n):
    r, v, d, last = _data(2)
    adv, ret = NStepReturn(n=n, gamma=0.9)(r, v, d, last)
    ref = _nstep_loop(r, v, d, last, 0.9, n)
    np.testing.assert_allclose(ret, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(adv, ref - v, rtol=1e-5, atol=1e-5)


def test_discounted_returns_simple_episode():
    rewards = jnp.array([1.0, 1.0, 1.0, 1.0])
    dones = jnp.array([False, True, False, False])
    returns = discounted_returns(rewards, dones, jnp.array(10.0), 0.5)
    np.testing.assert_allclose(
        returns, [1.5, 1.0, 1 + 0.5 * (1 + 0.5 * 10), 1 + 0.5 * 10]
    )


def test_vmap_over_gamma_and_bad_values():
    r, v, d, last = _data(3)
    gammas = jnp.array([0.9, 0.99])
    out = jax.vmap(lambda g: GAE(gamma=g, gae_lambda=0.95)(r, v, d, last)[0])(gammas)
    assert out.shape == (2, *r.shape)
    with pytest.raises(ValueError, match="gae_lambda"):
        GAE(gae_lambda=1.5)
    with pytest.raises(ValueError, match="gae_lambda"):
        GAE(lam=-0.5)
    # the earlier lerax's name for lambda
    assert GAE(0.9, lam=0.8) == GAE(gamma=0.9, gae_lambda=0.8)
    assert GAE(lam=0.8).lam == 0.8 and GAE().gae_lambda == 0.95
    with pytest.raises(TypeError, match="not both"):
        GAE(gae_lambda=0.9, lam=0.9)
    with pytest.raises(ValueError, match="n"):
        NStepReturn(n=0)


ESTIMATORS = [
    GAE(gamma=0.9, gae_lambda=1.0),
    BootstrappedReturn(gamma=0.9),
    NStepReturn(n=2, gamma=0.9),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_dones_without_the_env_axis_are_refused_not_broadcast(estimator):
    # T == N, so (T,) dones would broadcast over the env axis, silently wrong
    rewards, values = jnp.ones((3, 3)), jnp.zeros((3, 3))
    dones = jnp.array([True, False, False])
    with pytest.raises(ValueError, match=r"`dones`.*\(3, 3\).*\(3,\).*broadcast"):
        estimator(rewards, values, dones, jnp.full((3,), 10.0))
    with pytest.raises(ValueError, match=r"`dones`.*\(3, 3\).*\(3,\)"):
        discounted_returns(rewards, dones, jnp.full((3,), 10.0), 0.9)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_values_and_last_value_must_match_the_rewards(estimator):
    r, v, d, last = _data(4, T=5, batch=(3,))
    with pytest.raises(ValueError, match=r"`values`.*\(5, 3\).*\(4, 3\)"):
        estimator(r, v[:-1], d, last)
    with pytest.raises(ValueError, match=r"`last_value`.*\(3,\).*got \(\)"):
        estimator(r, v, d, np.float32(0.0))
    with pytest.raises(ValueError, match=r"`last_value`.*\(3,\).*got \(5, 3\)"):
        estimator(r, v, d, v)
    with pytest.raises(ValueError, match="`rewards`.*time"):
        estimator(r[0, 0], v[0, 0], d[0, 0], last[0])


def test_discounted_returns_checks_final_value_and_gamma():
    rewards, dones = jnp.ones((3, 3)), jnp.zeros((3, 3), bool)
    with pytest.raises(ValueError, match=r"`final_value`.*\(3,\).*\(3, 3\)"):
        discounted_returns(rewards, dones, jnp.zeros((3, 3)), 0.9)
    with pytest.raises(ValueError, match="gamma"):
        discounted_returns(rewards, dones, jnp.zeros(3), 1.5)
    # a traced gamma is still allowed
    out = jax.vmap(lambda g: discounted_returns(rewards, dones, jnp.zeros(3), g))(
        jnp.array([0.5, 0.9])
    )
    np.testing.assert_allclose(out[:, 0, 0], [1.75, 2.71], rtol=1e-6)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_dtypes_are_checked(estimator):
    r, v, d, last = _data(5, T=4, batch=(2,))
    with pytest.raises(TypeError, match="`rewards`.*int32"):
        estimator(r.astype(np.int32), v, d, last)
    with pytest.raises(TypeError, match="`values`.*int32"):
        estimator(r, v.astype(np.int32), d, last)
    with pytest.raises(TypeError, match="`dones`.*float32"):
        estimator(r, v, d.astype(np.float32), last)
    # integer 0/1 dones and mixed float widths are fine
    ref = estimator(r, v, d, last)
    for got in (
        estimator(r, v, d.astype(np.int32), last),
        estimator(r, v, d, last.astype(np.float16)),
    ):
        assert got[1].dtype == jnp.float32
        np.testing.assert_allclose(got[1], ref[1], rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_checks_run_at_trace_time_under_jit(estimator):
    r, v, d, last = _data(6, T=4, batch=(2,))
    call = jax.jit(lambda *args: estimator(*args))
    np.testing.assert_allclose(
        call(r, v, d, last)[1], estimator(r, v, d, last)[1], rtol=1e-6
    )
    with pytest.raises(ValueError, match="`dones`"):
        call(r, v, d[:, 0], last)


def test_nstep_n_must_be_an_int_and_not_a_bool():
    with pytest.raises(TypeError, match=r"NStepReturn\(n=...\).*bool"):
        NStepReturn(n=True)
    with pytest.raises(TypeError, match=r"NStepReturn\(n=...\).*float"):
        NStepReturn(n=2.0)
    with pytest.raises(ValueError, match=r"NStepReturn\(n=...\)"):
        NStepReturn(n=-1)
    # NumPy ints are stored as plain (hashable, static) ints
    assert NStepReturn(n=np.int64(3), gamma=0.5) == NStepReturn(3, 0.5)
    assert type(NStepReturn(n=np.int64(3)).n) is int


@pytest.mark.parametrize("estimator_type", [GAE, BootstrappedReturn, NStepReturn])
def test_output_dtype_follows_the_data_not_gamma(estimator_type):
    # float16 data with a float32 gamma, concrete or traced: every estimator
    # keeps the data's dtype (NStepReturn used to follow gamma's)
    r, v, d, last = _data(7, T=5, batch=(2,))
    r, v, last = (x.astype(np.float16) for x in (r, v, last))

    def make(gamma):
        if estimator_type is NStepReturn:
            return NStepReturn(3, gamma)
        return estimator_type(gamma)

    for got in (
        make(jnp.float32(0.9))(r, v, d, last),
        jax.vmap(lambda g: make(g)(r, v, d, last))(jnp.array([0.5, 0.9])),
    ):
        assert [x.dtype for x in got] == [jnp.float16, jnp.float16]
    ref = make(0.9)(r.astype(np.float32), v.astype(np.float32), d, last)
    got = make(jnp.float32(0.9))(r, v, d, last)
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-2, atol=1e-2)


def test_truncation_is_folded_into_the_reward_and_passed_as_done():
    # an episode truncated after step 1; step 2 is the reset observation of
    # the next episode. Folding `gamma * V(final_observation)` into the reward
    # and passing the step as done equals the two episodes computed apart.
    gamma, lam, v_final = 0.9, 0.95, 5.0
    r, v = jnp.array([1.0, 1.0, 1.0]), jnp.array([5.0, 5.0, 0.0])
    folded, _ = GAE(gamma, lam)(
        r.at[1].add(gamma * v_final), v, jnp.array([False, True, False]), 0.0
    )
    first, _ = GAE(gamma, lam)(r[:2], v[:2], jnp.zeros(2, bool), v_final)
    second, _ = GAE(gamma, lam)(r[2:], v[2:], jnp.zeros(1, bool), 0.0)
    np.testing.assert_allclose(folded, jnp.concatenate([first, second]), rtol=1e-6)
    # passing it as not done bootstraps from the reset observation instead
    not_done, _ = GAE(gamma, lam)(r, v, jnp.zeros(3, bool), 0.0)
    assert not np.allclose(not_done[:2], first)
    # and the documentation no longer offers that as an option
    doc = " ".join(AbstractAdvantageEstimator.__doc__.split())
    assert "or passed as not done" not in doc
    assert "pass the step as done" in doc
