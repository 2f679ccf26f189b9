"""`evaluate_policy`: compiled evaluation of a policy over whole episodes."""

import warnings

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, Key

from ..env import AbstractEnvLike
from ..env._base import where_tree
from ..policy import AbstractPolicy
from ..space import Box
from ..utils._prng import fused_keys
from ._base import check_env, check_key
from ._collector import _step, initial_carries


def evaluate_policy(
    env: AbstractEnvLike,
    policy: AbstractPolicy,
    *,
    key: Key[Array, ""],
    num_episodes: int = 32,
    deterministic: bool = True,
    max_steps: int = 100_000,
) -> tuple[Float[Array, " episodes"], Float[Array, " episodes"]]:
    """Runs `num_episodes` episodes in parallel and returns their undiscounted
    returns and lengths.

    Each episode runs in its own env copy until it ends (or `max_steps`
    steps pass, in which case the partial return is reported), inside one
    compiled `lax.while_loop`. An env whose episode has ended is held where
    it ended, and no env restarts (`env.step(..., autoreset=False)`), so
    no work goes into episodes that are not counted.

    Args:
        env: The environment (give it a time limit, e.g. via `lerax.env.make`).
        policy: The policy.
        key: A JAX PRNG key.
        num_episodes: Number of episodes.
        deterministic: Act with the policy's deterministic action (no key).
        max_steps: Safety cap on the episode length.

    Returns:
        `(returns, lengths)`, each of shape `(num_episodes,)`.

    Raises:
        ValueError: If `num_episodes` or `max_steps` is not an int >= 1.
        TypeError: If `key` is not one PRNG key, `env` is not a lerax env
            (a Gymnasium env is named with its adapter), or the policy's
            spaces do not fit the env's.

    Warns:
        UserWarning: If `env` normalises observations with statistics that
            are not frozen: every evaluation episode would then start from
            fresh statistics, unlike those the policy was trained behind.
    """
    for name, value in (("num_episodes", num_episodes), ("max_steps", max_steps)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            hint = " (pass a Python int)" if hasattr(value, "dtype") else ""
            raise ValueError(
                f"evaluate_policy({name}=...) must be an int >= 1, got {value!r}{hint}."
            )
    check_key("evaluate_policy", key)
    check_env("evaluate_policy", env)
    _warn_unfrozen(env)  # on every call, compiled before or not
    return _evaluate(env, policy, key, num_episodes, deterministic, max_steps)


@eqx.filter_jit
def _evaluate(env, policy, key, num_episodes, deterministic, max_steps):
    _check_fits(env, policy)
    carry_key, run_key = jr.split(key)
    carries = initial_carries(env, policy, num_episodes, key=carry_key)

    def actor(policy_state, observation, mask, key):
        policy_state, action = policy(
            policy_state,
            observation,
            key=None if deterministic else key,
            action_mask=mask,
        )
        return policy_state, action, action, {}

    # No restarts: an episode's env is not stepped once it has ended (its
    # carry is kept as it was), so starting its next episode would be wasted
    # work (for MuJoCo envs a forward pass per step).
    step = jax.vmap(lambda c, k: _step(env, policy, actor, c, k, autoreset=False))

    def cond(loop):
        _, finished, _, _, t, _ = loop
        return ~jnp.all(finished) & (t < max_steps)

    def body(loop):
        carries, finished, returns, lengths, t, key = loop
        key, step_key = jr.split(key)
        stepped, transition = step(carries, jr.split(step_key, num_episodes))
        carries = jax.vmap(where_tree)(finished, carries, stepped)
        newly = transition.done & ~finished
        returns = jnp.where(newly, transition.episode_return, returns)
        lengths = jnp.where(newly, transition.episode_length, lengths)
        return carries, finished | transition.done, returns, lengths, t + 1, key

    zeros = jnp.zeros((num_episodes,), jnp.float32)
    init = (
        carries,
        jnp.zeros((num_episodes,), bool),
        zeros,
        zeros,
        0,
        fused_keys(run_key),  # drawn from inside the loop (see `collect`)
    )
    carries, finished, returns, lengths, _, _ = jax.lax.while_loop(cond, body, init)
    returns = jnp.where(finished, returns, carries.episode_return)
    lengths = jnp.where(finished, lengths, carries.episode_length)
    return returns, lengths.astype(jnp.float32)


def _warn_unfrozen(env: AbstractEnvLike) -> None:
    from ..wrapper import NormalizeObservation
    from ..wrapper._sync import unfrozen_normalizers

    if NormalizeObservation in unfrozen_normalizers(env):
        warnings.warn(
            "`evaluate_policy`: the env's `NormalizeObservation` is not "
            "frozen, so each evaluation episode starts from fresh statistics "
            "(not the ones the policy was trained behind). Freeze it at the "
            "training statistics with `lerax.wrapper.sync_normalization("
            "eval_env, env, state.actors.env_state)` or `.frozen(statistics)`.",
            UserWarning,
            stacklevel=3,
        )


def _check_fits(env: AbstractEnvLike, policy: AbstractPolicy) -> None:
    """Raises `TypeError` when the policy cannot act in `env`: its
    observations or actions differ in structure, shape or dtype (or, for
    discrete actions, in the choices). Bounds may differ (an evaluation env
    with other dynamics parameters may have other observation bounds)."""

    def signature(space):
        sample = jax.eval_shape(lambda k: space.sample(key=k), jr.key(0))
        return jax.tree.map(lambda x: (x.shape, x.dtype), sample)

    for kind in ("observation", "action"):
        ours = getattr(policy, f"{kind}_space")
        theirs = getattr(env, f"{kind}_space")
        same = signature(ours) == signature(theirs)
        if same and kind == "action" and not isinstance(theirs, Box):
            same = ours == theirs
        if not same:
            raise TypeError(
                f"evaluate_policy: the policy's {kind} space {ours!r} does not fit "
                f"the env's {theirs!r}; evaluate in the env (or one like it) that "
                "the policy was built for."
            )
