"""Physics and task options of the MuJoCo envs are checked when the env is
built (Gymnasium stores whatever it is given): a weight given as text, or a
switch given as "no" (which `bool` reads as True), is refused by name."""

import dataclasses

import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("mujoco")

import lerax.env.mujoco as mj  # noqa: E402

ENVS = ["Hopper", "Ant", "Humanoid", "InvertedPendulum"]


def fields_of(cls, kind):
    return [f.name for f in dataclasses.fields(cls) if f.type is kind]


@pytest.mark.parametrize("name", ENVS)
def test_numbers_and_switches_are_checked(name):
    cls = getattr(mj, name)
    numbers, switches = fields_of(cls, float), fields_of(cls, bool)
    assert numbers  # every env has weights or scales
    for field in numbers:
        for bad in ("0.1", None, True):
            with pytest.raises(
                TypeError, match=rf"{name}\({field}=\.\.\.\)` must be a number"
            ):
                cls(**{field: bad})
        with pytest.raises(ValueError, match=rf"{field}=\.\.\.\)` must be finite"):
            cls(**{field: float("nan")})
    for field in switches:
        with pytest.raises(
            TypeError, match=rf"{field}=\.\.\.\)` must be True or False"
        ):
            cls(**{field: "no"})
    # good values of other numeric types are kept
    env = cls(**{numbers[0]: 1})
    assert getattr(env, numbers[0]) == 1


NOISY = [
    "Ant",
    "HalfCheetah",
    "Hopper",
    "Humanoid",
    "HumanoidStandup",
    "InvertedDoublePendulum",
    "InvertedPendulum",
    "Swimmer",
    "Walker2d",
]


@pytest.mark.parametrize("name", NOISY)
def test_negative_reset_noise_scale_is_refused(name):
    # `U(-s, s)` with s < 0 is the constant `+|s|`: every reset the same offset
    with pytest.raises(
        ValueError, match=rf"{name}\(reset_noise_scale=\.\.\.\)` must be >= 0"
    ):
        getattr(mj, name)(reset_noise_scale=-0.1)


@pytest.mark.parametrize("bad", [True, 1.5, 1.0, None])
def test_main_body_must_be_a_name_or_an_int(bad):
    # `int(True)` and `int(1.5)` are body 1: the torso, without a word
    with pytest.raises(
        TypeError, match=r"`Ant\(main_body=\.\.\.\)` must name a body \(a str such"
    ):
        mj.Ant(main_body=bad)


def test_main_body_index_out_of_range_and_good_values():
    with pytest.raises(ValueError, match=r"main_body=\.\.\.\)`: body index 14 out"):
        mj.Ant(main_body=14)
    # Gymnasium's `data.body(...)` takes names and NumPy ints alike
    torso = mj.Ant(main_body="torso").main_body
    assert torso == mj.Ant(main_body=np.int64(1)).main_body == 1


RANGES = [
    ("Ant", "healthy_z_range"),
    ("Ant", "contact_force_range"),
    ("Hopper", "healthy_state_range"),
    ("Hopper", "healthy_z_range"),
    ("Hopper", "healthy_angle_range"),
    ("Walker2d", "healthy_z_range"),
    ("Walker2d", "healthy_angle_range"),
    ("Humanoid", "healthy_z_range"),
    ("Humanoid", "contact_cost_range"),
    ("HumanoidStandup", "impact_cost_range"),
]


@pytest.mark.parametrize(("name", "option"), RANGES)
def test_ranges_must_be_pairs_of_numbers_without_nan(name, option):
    cls = getattr(mj, name)
    # text was read by `float` and kept; a bool was read as 0 or 1
    for bad in (("0.2", "1.0"), (True, 2.0), (0.1, None), 0.5, (0.1, 0.2, 0.3)):
        with pytest.raises(
            ValueError, match=rf"`{name}\({option}=\.\.\.\)` must be a pair of numbers"
        ):
            cls(**{option: bad})
    # NaN was refused as if the bounds were swapped
    with pytest.raises(ValueError, match=r"must not hold NaN \(for an open end use"):
        cls(**{option: (float("nan"), 1.0)})
    # NumPy and JAX numbers, and infinite (open) ends, are kept as floats
    env = cls(**{option: (np.float32(-np.inf), jnp.array(2.0))})
    assert getattr(env, option) == (-np.inf, 2.0)
    assert getattr(cls(**{option: np.array([0.5, 1.5])}), option) == (0.5, 1.5)
