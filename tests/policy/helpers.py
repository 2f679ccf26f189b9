"""Policies and spaces the policy tests run over."""

import jax
import jax.numpy as jnp

from lerax.policy import (
    MLPActorCriticPolicy,
    MLPDeterministicPolicy,
    MLPDiscreteSACPolicy,
    MLPQPolicy,
    MLPSACPolicy,
    RecurrentActorCriticPolicy,
)
from lerax.space import Box, Dict, Discrete, MultiBinary, MultiDiscrete, Tuple

OBSERVATION_SPACES = {
    "box": Box(-1.0, 1.0, (3,)),
    "dict": Dict(
        position=Box(-jnp.inf, jnp.inf, (2,)),
        mode=Discrete(3),
        flags=Tuple([MultiBinary(2), Box(0.0, 1.0, ())]),
    ),
}

ACTION_SPACES = {
    "box": Box(-2.0, 2.0, (2,)),
    "scalar_box": Box(-1.0, 1.0, ()),
    "discrete": Discrete(4, start=1),
    "multi_discrete": MultiDiscrete([3, 2]),
    "multi_binary": MultiBinary(3),
}


def small_policies(observation_space=OBSERVATION_SPACES["box"]):
    """(name, class, args, kwargs) for every concrete policy on a fitting action
    space; build with `cls(*args, key=key, **kwargs)`."""

    def spaces(action):
        return ((observation_space, ACTION_SPACES[action]),)

    out = [
        (
            f"actor_critic-{a}",
            MLPActorCriticPolicy,
            spaces(a),
            dict(value_width=8, action_width=8),
        )
        for a in ACTION_SPACES
    ]
    small_rnn = dict(hidden_size=8, feature_width=8, value_width=8)
    out += [
        (
            "recurrent_gru-discrete",
            RecurrentActorCriticPolicy,
            spaces("discrete"),
            small_rnn,
        ),
        (
            "recurrent_lstm-box",
            RecurrentActorCriticPolicy,
            spaces("box"),
            dict(cell="lstm", **small_rnn),
        ),
        ("q-discrete", MLPQPolicy, spaces("discrete"), dict(width_size=8)),
        (
            "deterministic-box",
            MLPDeterministicPolicy,
            spaces("box"),
            dict(width_size=8),
        ),
        ("sac-box", MLPSACPolicy, spaces("box"), dict(feature_size=8, width_size=8)),
        (
            "sac-scalar_box",
            MLPSACPolicy,
            spaces("scalar_box"),
            dict(feature_size=8, width_size=8),
        ),
        (
            "discrete_sac-discrete",
            MLPDiscreteSACPolicy,
            spaces("discrete"),
            dict(width_size=8),
        ),
    ]
    return out


def build(entry, key):
    """Builds a policy from a `small_policies` entry."""
    _, cls, args, kwargs = entry
    return cls(*args, key=key, **kwargs)


def leaves_equal(a, b) -> bool:
    """Bitwise equality of all array leaves of two pytrees with the same structure."""
    la = [x for x in jax.tree.leaves(a) if isinstance(x, jax.Array)]
    lb = [x for x in jax.tree.leaves(b) if isinstance(x, jax.Array)]
    return len(la) == len(lb) and all(
        x.dtype == y.dtype and x.shape == y.shape and bool(jnp.all(x == y))
        for x, y in zip(la, lb, strict=True)
    )
