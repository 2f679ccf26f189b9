"""The one rollout collector every algorithm shares.

`collect` runs `num_steps` steps of `num_envs` envs in one `lax.scan` over a
`vmap`: the actor chooses an action, the env steps (auto-resetting), the
policy state is reset where an episode ended, undiscounted episode returns
and lengths are tracked, and the envs' normalisation statistics are shared
(`lerax.wrapper.share_statistics`). What the actor computes besides the
action (values, log-probabilities) travels in `Transition.extras`.
"""

from collections.abc import Callable
from typing import Any, final

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Int, Key

from ..callback._base import StepContext, overrides
from ..env import AbstractEnvLike
from ..env._base import where_tree
from ..policy import AbstractPolicy
from ..utils._prng import fused_split, standard_keys
from ..wrapper._replay import scaled_episode_info, unnormalized
from ..wrapper._sync import share_statistics

# (policy_state, observation, action_mask, key) ->
#     (new_policy_state, stored_action, env_action, extras)
# (`collect(..., timed=True)` passes the step's index as a fifth argument)
Actor = Callable[[Any, Any, Any, Key[Array, ""]], tuple[Any, Any, Any, dict[str, Any]]]


@final
class ActorCarry(eqx.Module):
    """What one env carries from step to step (batched over envs in a state).

    Attributes:
        env_state: The env's state.
        observation: The observation to act on next.
        policy_state: The policy's state for the next step (already reset at
            episode starts).
        episode_start: Whether the next step starts an episode.
        episode_return: Undiscounted return of the running episode.
        episode_length: Length of the running episode.
        callback_state: The per-env step state of the training callback
            (None without one).
    """

    env_state: Any
    observation: Any
    policy_state: Any
    episode_start: Bool[Array, ""]
    episode_return: Float[Array, ""]
    episode_length: Int[Array, ""]
    callback_state: Any = None


@final
class Transition(eqx.Module):
    """One step of one env, as recorded by `collect` (stacked to `[T, N]`).

    Attributes:
        observation: The observation acted on.
        action: The action as the actor stored it.
        reward: The env's reward.
        terminated: Whether the episode terminated (no bootstrapping).
        truncated: Whether the episode was cut short (bootstrap from
            `final_observation`).
        final_observation: The observation after the step, before any reset.
        action_mask: The mask the action was chosen under (or None).
        final_action_mask: The mask of the state after the step, before any
            reset (or None).
        policy_state: The policy state used for the step (or None).
        next_policy_state: The policy state after the step, before a reset.
        episode_start: Whether the step began an episode.
        episode_return: On steps that end an episode, its undiscounted return
            (of the rewards below any `NormalizeReward`).
        episode_length: On steps that end an episode, its length.
        extras: Whatever else the actor returned (values, log-probs, ...).
        unnormalized: What the env's normalisers received on this step
            (`lerax.wrapper.unnormalized`: the observation acted on, the
            final observation and the reward, as far as the env's chain can
            replay them; empty for an env without normalisers), for replay
            buffers that normalise what they sample with the current
            statistics.
    """

    observation: Any
    action: Any
    reward: Float[Array, ""]
    terminated: Bool[Array, ""]
    truncated: Bool[Array, ""]
    final_observation: Any
    action_mask: Any
    final_action_mask: Any
    policy_state: Any
    next_policy_state: Any
    episode_start: Bool[Array, ""]
    episode_return: Float[Array, ""]
    episode_length: Int[Array, ""]
    extras: dict[str, Any]
    unnormalized: dict[str, Any]

    @property
    def done(self) -> Bool[Array, "..."]:
        """Terminated or truncated."""
        return self.terminated | self.truncated


def initial_carry(
    env: AbstractEnvLike, policy: AbstractPolicy, *, key: Key[Array, ""]
) -> ActorCarry:
    """A fresh carry for one env (see `initial_carries` for several)."""
    env_key, policy_key = jr.split(key)
    env_state, observation, _ = env.reset(key=env_key)
    return standard_keys(
        ActorCarry(
            env_state,
            observation,
            policy.reset(key=policy_key),
            jnp.array(True),
            jnp.zeros((), jnp.float32),
            jnp.zeros((), jnp.int32),
        )
    )


def initial_carries(
    env: AbstractEnvLike, policy: AbstractPolicy, num_envs: int, *, key: Key[Array, ""]
) -> ActorCarry:
    """Fresh carries for `num_envs` envs (leading axis = envs), reset with
    the keys `jax.random.split(key, num_envs)`."""
    # hashed with fusable Threefry (the same keys): XLA compiles the default
    # hash's rolled loop, vectorised over envs, into large kernels (about
    # 0.1 s of compilation per reset)
    keys = fused_split(key, num_envs)
    carries = jax.vmap(lambda k: initial_carry(env, policy, key=k))(keys)
    return _shared(env, carries)


def _shared(env: AbstractEnvLike, carries: ActorCarry) -> ActorCarry:
    """`carries` (batched over envs) with their normalisation statistics
    shared, as `VecNormalize` keeps one set for all its envs."""
    env_state = share_statistics(env, carries.env_state)
    if env_state is carries.env_state:  # nothing to share
        return carries
    return eqx.tree_at(lambda c: c.env_state, carries, env_state)


def _step(
    env: AbstractEnvLike,
    policy: AbstractPolicy,
    actor: Actor,
    carry: ActorCarry,
    key: Key[Array, ""],
    callback: Any = None,
    autoreset: bool = True,
) -> tuple[ActorCarry, Transition]:
    """One env step of one actor. Loops calling it should pass keys made by
    `fused_keys` or `fused_split` (what is drawn inside then hashes with
    fusable Threefry); any key that reaches the returned carry or transition
    is a default key. `autoreset=False` (evaluation loops that stop an actor
    at its episode's end) skips the env's restart: the carry then keeps the
    finished episode's last state."""
    # fold_in per use: keys nobody draws from (no masks, stateless policy, no
    # callback) cost nothing, unlike one split into five.
    act_key, mask_key, env_key, reset_key, callback_key = (
        jr.fold_in(key, i) for i in range(5)
    )
    mask = env.action_mask(carry.env_state, key=mask_key)
    policy_state, action, env_action, extras = actor(
        carry.policy_state, carry.observation, mask, act_key
    )
    env_state, observation, reward, terminated, truncated, info = env.step(
        carry.env_state, env_action, key=env_key, check=False, autoreset=autoreset
    )
    done = terminated | truncated
    raw = unnormalized(env, carry.env_state, info)
    if "episode" in info and not scaled_episode_info(env):
        # EpisodeStatistics below the reward wrappers: raw returns
        episode_return = info["episode"]["return"]
        episode_length = info["episode"]["length"]
    else:
        # behind `NormalizeReward` (also one inside an EpisodeStatistics),
        # the return of the rewards it received
        episode_return = carry.episode_return + raw.get("reward", reward)
        episode_length = carry.episode_length + 1
    next_policy_state = policy_state
    if policy_state is not None:
        policy_state = where_tree(done, policy.reset(key=reset_key), policy_state)
    transition = Transition(
        observation=carry.observation,
        action=action,
        reward=reward,
        terminated=terminated,
        truncated=truncated,
        final_observation=info["final_observation"],
        action_mask=mask,
        final_action_mask=info.get("final_action_mask"),
        policy_state=carry.policy_state,
        next_policy_state=next_policy_state,
        episode_start=carry.episode_start,
        episode_return=episode_return,
        episode_length=episode_length,
        extras=extras,
        unnormalized=raw,
    )
    callback_state = carry.callback_state
    if callback is not None:
        callback_state = callback.on_step(
            StepContext(
                env=env,
                policy=policy,
                env_state=env_state,
                observation=carry.observation,
                action=env_action,
                reward=reward,
                terminated=terminated,
                truncated=truncated,
                info=info,
                episode_return=episode_return,
                episode_length=episode_length,
                callback_state=callback_state,
            ),
            key=callback_key,
        )
    carry = ActorCarry(
        env_state,
        observation,
        policy_state,
        done,
        jnp.where(done, 0.0, episode_return),
        jnp.where(done, 0, episode_length),
        callback_state,
    )
    return standard_keys((carry, transition))


def collect(
    env: AbstractEnvLike,
    policy: AbstractPolicy,
    actor: Actor,
    carry: ActorCarry,
    *,
    num_steps: int,
    key: Key[Array, ""],
    unroll: int = 1,
    callback: Any = None,
    timed: bool = False,
) -> tuple[ActorCarry, Transition]:
    """Runs `num_steps` steps of every env in `carry` (batched over envs).

    Args:
        env: The environment.
        policy: The policy (used to reset its state at episode ends).
        actor: Chooses actions, see `Actor`.
        carry: The batched `ActorCarry`, leading axis = envs.
        num_steps: Steps per env.
        key: A JAX PRNG key.
        unroll: `lax.scan` unrolling (speed only).
        callback: A training callback whose `on_step` runs after every step
            (its step states live in `carry.callback_state`), or None.
        timed: Call `actor` with a fifth argument, the index of the step
            within this call (`0 .. num_steps - 1`, the same for every env).

    Returns:
        The new carry and the `Transition`s with leading axes `[T, N]`.
    """
    num_envs = carry.episode_start.shape[0]
    if callback is not None and not overrides(callback, "on_step"):
        callback = None

    def batched(carry: ActorCarry, inputs):
        # the step's index travels with its keys only when the actor takes it
        keys, index = inputs if timed else (inputs, None)
        acting = actor if not timed else lambda *args: actor(*args, index)
        stepped = jax.vmap(lambda c, k: _step(env, policy, acting, c, k, callback))
        carry, transition = stepped(carry, keys)
        return _shared(env, carry), transition

    # Every step's per-env keys are split before the loop, in one vectorised
    # call, and everything drawn from them inside it hashes with fusable
    # Threefry (bitwise the default): inside a sequential loop every PRNG
    # kernel costs per step. The split before the loop hashes with it too
    # (cheaper to compile). (Deriving the per-use keys before the loop as
    # well would add ~0.2 s of compilation for no faster run.)
    keys = jax.vmap(lambda k: jr.split(k, num_envs))(fused_split(key, num_steps))
    inputs = (keys, jnp.arange(num_steps, dtype=jnp.int32)) if timed else keys
    return jax.lax.scan(batched, carry, inputs, unroll=unroll)
