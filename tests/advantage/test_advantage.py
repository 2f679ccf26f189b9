"""Advantage estimators against plain Python loops."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lerax.advantage import GAE, BootstrappedReturn, NStepReturn, discounted_returns


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
