"""Adapters between lerax and Gymnasium, Stable-Baselines3 and gymnax.

Gymnasium (and so Stable-Baselines3) and gymnax are optional (extra `gym`):
the names below are imported lazily, on first use, so `import
lerax.compatibility` works without them and a missing package gives an
`ImportError` naming `pip install "lerax[gym]"`.

Gymnasium: `lerax_to_gym_space`, `gym_space_to_lerax_space`, `LeraxToGymEnv`
(a lerax env as a `gymnasium.Env`, e.g. for Stable-Baselines3) and
`GymToLeraxEnv` (a Gymnasium env inside lerax training, through host
callbacks).

gymnax: `lerax_to_gymnax_space`, `gymnax_space_to_lerax_space`,
`GymnaxToLeraxEnv` and `LeraxToGymnaxEnv` (both pure JAX, vmappable).
"""

import importlib
from typing import Any

_LAZY = {
    "gym_space_to_lerax_space": "._gym_spaces",
    "lerax_to_gym_space": "._gym_spaces",
    "to_gym_value": "._gym_spaces",
    "to_lerax_value": "._gym_spaces",
    "LeraxToGymEnv": "._lerax_to_gym",
    "GymToLeraxEnv": "._gym_to_lerax",
    "GymEnvState": "._gym_to_lerax",
    "gymnax_space_to_lerax_space": "._gymnax_spaces",
    "lerax_to_gymnax_space": "._gymnax_spaces",
    "GymnaxToLeraxEnv": "._gymnax_to_lerax",
    "GymnaxEnvState": "._gymnax_to_lerax",
    "LeraxToGymnaxEnv": "._lerax_to_gymnax",
    "LeraxEnvParams": "._lerax_to_gymnax",
    "LeraxEnvState": "._lerax_to_gymnax",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name], __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
