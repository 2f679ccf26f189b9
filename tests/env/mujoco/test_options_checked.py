"""Physics and task options of the MuJoCo envs are checked when the env is
built (Gymnasium stores whatever it is given): a weight given as text, or a
switch given as "no" (which `bool` reads as True), is refused by name."""

import dataclasses

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
