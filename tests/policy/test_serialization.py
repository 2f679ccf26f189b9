"""Round trips, mismatches and damaged files for policy serialisation."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from lerax.policy import MLPActorCriticPolicy, MLPQPolicy, RecurrentActorCriticPolicy
from lerax.space import Box, Discrete

from .helpers import build, leaves_equal, small_policies

SPACES = (Box(-1.0, 1.0, (3,)), Discrete(2))


@pytest.mark.parametrize("entry", small_policies(), ids=lambda e: e[0])
def test_round_trip_every_policy(entry, tmp_path, getkey):
    name, cls, args, kwargs = entry
    policy = build(entry, getkey())
    written = policy.serialize(tmp_path / name)
    assert written == tmp_path / f"{name}.eqx"
    loaded = cls.deserialize(tmp_path / name, *args, **kwargs)
    assert leaves_equal(policy, loaded)
    obs = policy.observation_space.sample(key=getkey())
    state = policy.reset(key=getkey())
    key = getkey()
    a = policy(state, obs, key=key)[1]
    b = loaded(state, obs, key=key)[1]
    assert jnp.array_equal(jnp.asarray(a), jnp.asarray(b))
    a = policy(state, obs)[1]
    b = loaded(state, obs)[1]
    assert jnp.array_equal(jnp.asarray(a), jnp.asarray(b))


def test_deserialize_with_constructor_arguments(tmp_path, getkey):
    policy = MLPActorCriticPolicy(SPACES, value_width=16, key=getkey())
    path = policy.serialize(tmp_path / "ac")
    loaded = MLPActorCriticPolicy.deserialize(path, SPACES, value_width=16)
    assert leaves_equal(policy, loaded)


def test_suffix_rule_is_applied_on_both_sides(tmp_path, getkey):
    policy = MLPQPolicy(SPACES, key=getkey())
    assert policy.serialize(tmp_path / "model.v2") == tmp_path / "model.v2.eqx"
    assert policy.serialize(tmp_path / "same.eqx") == tmp_path / "same.eqx"
    MLPQPolicy.deserialize(tmp_path / "model.v2", SPACES)
    MLPQPolicy.deserialize(tmp_path / "model.v2.eqx", SPACES)


@pytest.mark.parametrize(
    "build",
    [
        lambda k: MLPActorCriticPolicy(SPACES, value_width=32, key=k),  # hidden size
        lambda k: MLPActorCriticPolicy(
            SPACES, activation=jax.nn.relu, key=k
        ),  # activation
        lambda k: MLPActorCriticPolicy((SPACES[0], Discrete(3)), key=k),  # action space
        lambda k: MLPActorCriticPolicy(
            (Box(-2.0, 2.0, (3,)), Discrete(2)), key=k
        ),  # bounds
        lambda k: MLPQPolicy(SPACES, key=k),  # class
        lambda k: RecurrentActorCriticPolicy(SPACES, key=k),  # class
    ],
)
def test_structural_mismatch_raises(build, tmp_path, getkey):
    MLPActorCriticPolicy(SPACES, key=getkey()).serialize(tmp_path / "p")
    skeleton_cls = type(build(jr.key(0)))
    with pytest.raises(ValueError, match="fingerprint mismatch"):
        _load_with(skeleton_cls, build, tmp_path / "p")


def _load_with(cls, build, path):
    from lerax.utils import _serialization

    skeleton = eqx.filter_eval_shape(build, jr.key(0))
    return _serialization.load_into(
        skeleton, _serialization.resolve_path(path), cls.__name__
    )


def test_scalar_hyper_parameters_are_part_of_the_structure(tmp_path, getkey):
    MLPQPolicy(SPACES, epsilon=0.1, key=getkey()).serialize(tmp_path / "q")
    with pytest.raises(ValueError, match="fingerprint mismatch"):
        MLPQPolicy.deserialize(tmp_path / "q", SPACES, epsilon=0.7)
    assert MLPQPolicy.deserialize(tmp_path / "q", SPACES, epsilon=0.1).epsilon == 0.1


def test_a_seed_taken_from_a_jax_vmap_result_loads_with_the_fix_named(tmp_path, getkey):
    # jax.vmap returns float fields as arrays, one value per seed: a seed
    # taken from its result holds `epsilon` as a 0-d array, which is another
    # structure than the Python float the constructor makes
    policies = jax.vmap(lambda k: MLPQPolicy(SPACES, epsilon=0.2, key=k))(
        jr.split(getkey(), 3)
    )
    one = jax.tree.map(lambda x: x[1], policies)
    assert isinstance(one.epsilon, jax.Array) and one.epsilon.shape == ()
    path = one.serialize(tmp_path / "seed1")
    with pytest.raises(
        ValueError,
        match=r"`epsilon` is float32\[\], .* it is 0\.2\. The file holds `epsilon` as a "
        r"0-d array, as in a policy taken from a `jax.vmap` result .* "
        r"`epsilon=jnp.float32\(0\.2\)`",
    ):
        MLPQPolicy.deserialize(path, SPACES, epsilon=0.2)
    # the named fix loads it (the saved value, whatever the one passed)
    loaded = MLPQPolicy.deserialize(path, SPACES, epsilon=jnp.float32(0.9))
    assert leaves_equal(loaded, one) and float(loaded.epsilon) == pytest.approx(0.2)
    # and the other named fix saves a Python float again
    with pytest.raises(
        ValueError, match=r"eqx.tree_at\(lambda p: p.epsilon, policy, 0\.2\)"
    ):
        MLPQPolicy.deserialize(path, SPACES, epsilon=0.2)
    fixed = eqx.tree_at(lambda p: p.epsilon, one, 0.2)
    path = fixed.serialize(tmp_path / "fixed")
    assert MLPQPolicy.deserialize(path, SPACES, epsilon=0.2).epsilon == 0.2
    with pytest.raises(ValueError, match=r"pass `epsilon=0\.2` \(a Python number"):
        MLPQPolicy.deserialize(path, SPACES, epsilon=jnp.float32(0.2))


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda data: b"", "empty or truncated"),
        (lambda data: data[:20], "empty or truncated"),
        (lambda data: data[: len(data) // 2], "corrupted or truncated"),
        (lambda data: data[:40], "corrupted or truncated"),
        (lambda data: data + b"junk", "trailing data"),
        (lambda data: bytes([data[0] ^ 0xFF]) + data[1:], "checksum does not match"),
        # NaN written over weights: the leaf stream still parses
        (
            lambda data: data[:300] + b"\x00\x00\xc0\x7f" * 25 + data[400:],
            "checksum does not match",
        ),
        (lambda data: data[:-1], "trailing data"),  # the trailer cut short
        (lambda data: data[:32] + b"\x00" * (len(data) - 32), "corrupted or truncated"),
        (
            lambda data: b"PK\x03\x04 this is a zip file, not a policy" * 4,
            "fingerprint mismatch",
        ),
    ],
)
def test_damaged_files_raise_value_error(damage, match, tmp_path, getkey):
    path = MLPActorCriticPolicy(SPACES, key=getkey()).serialize(tmp_path / "p")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=match):
        MLPActorCriticPolicy.deserialize(path, SPACES)


def test_file_without_a_trailer_still_loads(tmp_path, getkey):
    # files of the earlier package (fingerprint + leaves, no checksum) load
    import io

    from lerax.utils import fingerprint

    policy = MLPActorCriticPolicy(SPACES, key=getkey())
    stream = io.BytesIO()
    stream.write(fingerprint(policy))
    eqx.tree_serialise_leaves(stream, policy)
    (tmp_path / "old.eqx").write_bytes(stream.getvalue())
    assert leaves_equal(
        MLPActorCriticPolicy.deserialize(tmp_path / "old", SPACES), policy
    )
    with pytest.raises(ValueError, match="fingerprint mismatch"):
        MLPActorCriticPolicy.deserialize(tmp_path / "old", SPACES, value_width=8)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"value_width": 32},
            r"`critic.layers\[0\].weight` is float32\[64, 3\], but in the one built "
            r"from the constructor arguments given it is float32\[32, 3\]",
        ),
        ({"activation": jax.nn.relu}, r"`actor.activation` is tanh, .* it is relu"),
    ],
)
def test_mismatch_names_the_first_difference(kwargs, message, tmp_path, getkey):
    path = MLPActorCriticPolicy(SPACES, key=getkey()).serialize(tmp_path / "p")
    with pytest.raises(ValueError, match="fingerprint mismatch.*" + message):
        MLPActorCriticPolicy.deserialize(path, SPACES, **kwargs)


def test_mismatch_names_the_class_that_saved_the_file(tmp_path, getkey):
    path = MLPActorCriticPolicy(SPACES, key=getkey()).serialize(tmp_path / "p")
    with pytest.raises(
        ValueError,
        match=r"holds a MLPActorCriticPolicy, not a MLPQPolicy: load it with "
        r"`MLPActorCriticPolicy.deserialize",
    ):
        MLPQPolicy.deserialize(path, SPACES)


def test_partial_activations_are_told_apart(tmp_path, getkey):
    # Equinox keeps a `functools.partial` activation inside JAX's hashable
    # shim, which the fingerprint described by its class alone: a policy
    # saved with one slope loaded silently with another, or another function
    import functools

    def build(activation):
        return MLPActorCriticPolicy(SPACES, activation=activation, key=getkey())

    leaky = functools.partial(jax.nn.leaky_relu, negative_slope=0.2)
    path = build(leaky).serialize(tmp_path / "leaky")
    loaded = MLPActorCriticPolicy.deserialize(path, SPACES, activation=leaky)
    assert loaded.actor is not None
    steeper = functools.partial(jax.nn.leaky_relu, negative_slope=0.9)
    with pytest.raises(ValueError, match=r"activation:negative_slope` is 0\.2.* 0\.9"):
        MLPActorCriticPolicy.deserialize(path, SPACES, activation=steeper)
    elu = functools.partial(jax.nn.elu, alpha=0.2)
    with pytest.raises(ValueError, match=r"`actor\.activation` is leaky_relu.* elu"):
        MLPActorCriticPolicy.deserialize(path, SPACES, activation=elu)


def test_saving_never_sets_the_process_umask(tmp_path, getkey, monkeypatch):
    # reading the umask means setting it to 0 for a moment, during which a
    # file another thread creates is world-writable: the kernel applies it
    import os

    def forbidden(mask):
        raise AssertionError("os.umask called while saving")

    monkeypatch.setattr(os, "umask", forbidden)
    policy = MLPQPolicy(SPACES, key=getkey())
    path = policy.serialize(tmp_path / "p")
    assert MLPQPolicy.deserialize(path, SPACES) is not None
    assert [p.name for p in tmp_path.iterdir()] == ["p.eqx"]  # no temporary left


def test_files_keep_their_mode_and_symlinks(tmp_path, getkey):
    import os
    import stat

    policy = MLPQPolicy(SPACES, key=getkey())
    umask = os.umask(0o027)
    try:
        path = policy.serialize(tmp_path / "p")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # as `open` would make it
    path.chmod(0o604)
    policy.serialize(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o604  # an overwrite keeps it
    link = tmp_path / "link.eqx"
    link.symlink_to(path)
    other = MLPQPolicy(SPACES, key=getkey())
    other.serialize(link)
    assert link.is_symlink()  # the target was replaced, the link kept
    assert leaves_equal(MLPQPolicy.deserialize(path, SPACES), other)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        MLPQPolicy.deserialize(tmp_path / "nope", SPACES)


def test_crash_during_serialize_keeps_the_old_file(tmp_path, getkey, monkeypatch):
    old = MLPActorCriticPolicy(SPACES, key=getkey())
    path = old.serialize(tmp_path / "p")
    before = path.read_bytes()
    new = MLPActorCriticPolicy(SPACES, key=getkey())

    def exploding(file, tree):
        file.write(b"partial data")
        raise RuntimeError("disk full")

    monkeypatch.setattr(eqx, "tree_serialise_leaves", exploding)
    with pytest.raises(RuntimeError, match="disk full"):
        new.serialize(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert leaves_equal(MLPActorCriticPolicy.deserialize(path, SPACES), old)
    assert [p.name for p in tmp_path.iterdir()] == ["p.eqx"]  # no temp files left


def test_fingerprint_is_stable_and_value_independent(getkey):
    from lerax.utils import fingerprint

    a = MLPActorCriticPolicy(SPACES, key=getkey())
    b = MLPActorCriticPolicy(SPACES, key=getkey())
    assert fingerprint(a) == fingerprint(b)
    assert len(fingerprint(a)) == 32
    assert fingerprint(a) != fingerprint(
        eqx.tree_at(lambda p: p.critic.layers[-1].bias, a, jnp.zeros(2))
    )


def test_fingerprint_golden_value():
    """The description format is ours, not JAX's or Equinox's repr: pin it so an
    accidental change (which would orphan users' files) is caught."""
    from lerax.utils import fingerprint

    policy = MLPQPolicy(SPACES, width_size=4, depth=1, key=jr.key(0))
    assert fingerprint(policy).hex() == GOLDEN


GOLDEN = "6496d436b54ec4a82b9c97b474a18912316e59a0cfe3947ae9bb3846fd9dba7f"


def test_a_file_with_an_unactivated_one_layer_encoder_is_refused_with_the_reason(
    tmp_path,
):
    # files written before one-layer networks applied their final activation
    # hold an `equinox.nn.MLP` of depth 0 there: loading them would act
    # differently than trained, so they are refused, saying why
    spaces = (Box(-1.0, 1.0, (3,)), Discrete(2))
    policy = RecurrentActorCriticPolicy(spaces, hidden_size=8, key=jr.key(0))
    encoder = policy.encoder
    earlier = eqx.nn.MLP(3, 64, 64, 0, key=jr.key(1))
    earlier = eqx.tree_at(lambda m: m.layers, earlier, encoder.layers)
    old = eqx.tree_at(lambda p: p.encoder, policy, earlier)
    path = old.serialize(tmp_path / "old.eqx")
    with pytest.raises(ValueError, match=r"earlier lerax, whose one-layer networks"):
        RecurrentActorCriticPolicy.deserialize(path, spaces, hidden_size=8)
    # and a file of this version loads
    path = policy.serialize(tmp_path / "new.eqx")
    loaded = RecurrentActorCriticPolicy.deserialize(path, spaces, hidden_size=8)
    assert leaves_equal(loaded, policy)


@pytest.mark.parametrize(
    "saved, loaded",
    [(0, 0.0), (1, 1.0), (np.float32(0.1), 0.1)],
)
def test_numbers_equal_as_values_load(saved, loaded, tmp_path, getkey):
    # an int and its float, or a float32 and its float64, hashed differently
    MLPQPolicy(SPACES, epsilon=saved, key=getkey()).serialize(tmp_path / "q")
    MLPQPolicy.deserialize(tmp_path / "q", SPACES, epsilon=loaded)
    with pytest.raises(ValueError, match="`epsilon` is"):
        MLPQPolicy.deserialize(tmp_path / "q", SPACES, epsilon=0.5)


def test_deterministic_noise_saved_as_an_int_loads_as_a_float(tmp_path, getkey):
    from lerax.policy import MLPDeterministicPolicy

    spaces = (Box(-1.0, 1.0, (3,)), Box(-1.0, 1.0, (1,)))
    policy = MLPDeterministicPolicy(spaces, exploration_noise=0, key=getkey())
    path = policy.serialize(tmp_path / "d")
    MLPDeterministicPolicy.deserialize(path, spaces, exploration_noise=0.0)


def test_a_path_without_a_file_name_is_refused(tmp_path, getkey):
    # "models/" wrote "models.eqx" beside the folder; "" named PosixPath('.')
    policy = MLPQPolicy(SPACES, key=getkey())
    (tmp_path / "models").mkdir()
    with pytest.raises(ValueError, match="names a folder"):
        policy.serialize(f"{tmp_path}/models/")
    with pytest.raises(ValueError, match="has no file name"):
        policy.serialize("")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models"]
    (tmp_path / "saved.eqx").mkdir()
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        MLPQPolicy.deserialize(tmp_path / "saved", SPACES)
