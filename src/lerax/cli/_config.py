"""Run configurations: embedded defaults, TOML files, `--set`, and building
the env, algorithm and policy they describe.

A configuration is a dict of three sections:

- `run`: `algorithm`, `env`, `total_timesteps`, `seed`, `num_seeds`,
  `lr_schedule` (`"constant"` or `"linear"`: decay to 0 over the run),
  `eval_episodes`, `normalize_observation` and `normalize_reward` (train
  behind `NormalizeObservation` / `NormalizeReward`, as the RL Zoo's
  `normalize`; evaluation then sees observations normalised with the
  training statistics, saved next to the policy, and raw rewards);
- `algorithm`: every field of the algorithm class;
- `policy`: `class` and every keyword of the policy's constructor
  (activations by name, e.g. `"tanh"`).

`None` is written as the string `"none"` (TOML has no null). Precedence:
embedded defaults < `--config FILE` < `--set` (and the positional arguments
and flags, which are shorthands for `--set`).
"""

import dataclasses
import inspect
import tomllib
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import equinox as eqx
import jax

from ._errors import CLIError, unknown

ALGORITHMS = ("PPO", "A2C", "REINFORCE", "DQN", "DDPG", "TD3", "SAC", "SACDiscrete")
POLICIES = (
    "MLPActorCriticPolicy",
    "RecurrentActorCriticPolicy",
    "MLPQPolicy",
    "MLPDeterministicPolicy",
    "MLPSACPolicy",
    "MLPDiscreteSACPolicy",
)
DEFAULT_POLICY = {
    "PPO": "MLPActorCriticPolicy",
    "A2C": "MLPActorCriticPolicy",
    "REINFORCE": "MLPActorCriticPolicy",
    "DQN": "MLPQPolicy",
    "DDPG": "MLPDeterministicPolicy",
    "TD3": "MLPDeterministicPolicy",
    "SAC": "MLPSACPolicy",
    "SACDiscrete": "MLPDiscreteSACPolicy",
}
DEFAULT_ENV = {name: "CartPole-v1" for name in ALGORITHMS} | {
    "DDPG": "Pendulum-v1",
    "TD3": "Pendulum-v1",
    "SAC": "Pendulum-v1",
}
# Embedded defaults. PPO's is RL Zoo's CartPole-v1 configuration (it reaches
# 500 within 100k steps, see tests/algorithm/test_learning.py); the others
# are the library defaults with smaller replay buffers and more envs.
_OFF_POLICY = {"buffer_size": 100_000}
EMBEDDED: dict[str, dict[str, Any]] = {
    "PPO": {
        "run": {"total_timesteps": 100_000, "lr_schedule": "linear"},
        "algorithm": {
            "num_envs": 8,
            "num_steps": 32,
            "num_epochs": 20,
            "num_batches": 1,
            "gamma": 0.98,
            "gae_lambda": 0.8,
            "learning_rate": 1e-3,
        },
    },
    "A2C": {
        "run": {"total_timesteps": 200_000},
        "algorithm": {"num_envs": 8},
    },
    "REINFORCE": {
        "run": {"total_timesteps": 200_000},
        "algorithm": {"num_envs": 4},
    },
    "DQN": {
        "run": {"total_timesteps": 50_000},
        "algorithm": _OFF_POLICY
        | {
            "learning_rate": 2.3e-3,
            "batch_size": 64,
            "learning_starts": 1000,
            "target_update_interval": 10,
            "exploration_fraction": 0.16,
            "exploration_final_eps": 0.04,
            "num_steps": 256,
            "gradient_steps": 128,
        },
        "policy": {"width_size": 256},
    },
    "DDPG": {"run": {"total_timesteps": 20_000}, "algorithm": dict(_OFF_POLICY)},
    "TD3": {"run": {"total_timesteps": 20_000}, "algorithm": dict(_OFF_POLICY)},
    "SAC": {"run": {"total_timesteps": 20_000}, "algorithm": dict(_OFF_POLICY)},
    "SACDiscrete": {
        "run": {"total_timesteps": 50_000},
        "algorithm": dict(_OFF_POLICY),
    },
}
RUN_TYPES: dict[str, Any] = {
    "algorithm": str,
    "env": str,
    "total_timesteps": int,
    "seed": int,
    "num_seeds": int,
    "lr_schedule": typing.Literal["constant", "linear"],
    "eval_episodes": int,
    "normalize_observation": bool,
    "normalize_reward": bool,
}
RUN_DEFAULTS: dict[str, Any] = {
    "total_timesteps": 100_000,
    "seed": 0,
    "num_seeds": 1,
    "lr_schedule": "constant",
    "eval_episodes": 32,
    "normalize_observation": False,
    "normalize_reward": False,
}
ACTIVATIONS: dict[str, Callable] = {
    name: getattr(jax.nn, name)
    for name in (
        "tanh",
        "relu",
        "gelu",
        "silu",
        "elu",
        "leaky_relu",
        "sigmoid",
        "softplus",
        "identity",
    )
}
SECTIONS = ("run", "algorithm", "policy")
# JAX keys hold 32-bit seeds (larger ones wrap round onto smaller ones), and
# Gymnasium and NumPy take non-negative seeds: 0 to 2**32 - 1.
MAX_SEED = 2**32 - 1
# TOML integers are 64-bit, and so are the largest integers JAX and NumPy hold.
INT64 = (-(2**63), 2**63 - 1)


def algorithm_class(name: str) -> type:
    """The algorithm class called `name` (case-insensitive)."""
    import lerax.algorithm

    return getattr(lerax.algorithm, canonical(name, ALGORITHMS, "algorithm"))


def policy_class(name: str) -> type:
    """The policy class called `name`."""
    import lerax.policy

    return getattr(lerax.policy, canonical(name, POLICIES, "policy"))


def canonical(name: Any, valid: tuple[str, ...], kind: str) -> str:
    """`name` spelled as in `valid` (case-insensitive), or a `CLIError`."""
    for v in valid:
        if isinstance(name, str) and v.lower() == name.lower():
            return v
    raise unknown(kind, str(name), valid)


def algorithm_types(name: str) -> dict[str, Any]:
    """Field name -> annotation of an algorithm."""
    cls = algorithm_class(name)
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(cls)}


def policy_types(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Keyword -> annotation and keyword -> default of a policy constructor."""
    types_, defaults = {"class": str}, {"class": name}
    for p in inspect.signature(policy_class(name)).parameters.values():
        if p.name in ("env", "key") or p.kind is not p.KEYWORD_ONLY:
            continue
        default = p.default
        if p.name == "activation":
            types_[p.name] = typing.Literal[tuple(ACTIVATIONS)]
            default = activation_name(default)
        elif p.annotation is not inspect.Parameter.empty:
            types_[p.name] = p.annotation
        else:
            types_[p.name] = type(default)
        defaults[p.name] = default
    return types_, defaults


def activation_name(fn: Callable) -> str:
    """The name under which `fn` is listed in `ACTIVATIONS`."""
    for name, candidate in ACTIVATIONS.items():
        if candidate is fn:
            return name
    raise CLIError(f"Activation {fn!r} has no name the command line knows.", 1)


def default_config(algorithm: str, env_id: str | None = None) -> dict[str, dict]:
    """The embedded default configuration of `algorithm`."""
    algorithm = canonical(algorithm, ALGORITHMS, "algorithm")
    cls = algorithm_class(algorithm)
    embedded = EMBEDDED[algorithm]
    run = {"algorithm": algorithm, "env": env_id or DEFAULT_ENV[algorithm]}
    run |= RUN_DEFAULTS | embedded.get("run", {})
    algo = {f.name: f.default for f in dataclasses.fields(cls)}
    algo |= embedded.get("algorithm", {})
    _, policy = policy_types(DEFAULT_POLICY[algorithm])
    policy |= embedded.get("policy", {})
    return {"run": run, "algorithm": algo, "policy": policy}


def read_toml(path: str | Path) -> dict[str, dict]:
    """Reads a configuration file (sections `run`, `algorithm`, `policy`)."""
    path = Path(path)
    if path.is_dir():
        inside = path / "config.toml"
        hint = (
            f"pass its {str(inside)!r}"
            if inside.is_file()
            else "pass a .toml file (a `lerax train` folder holds config.toml)"
        )
        raise CLIError(f"Config file {str(path)!r} is a folder; {hint}.")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CLIError(f"Config file {str(path)!r} does not exist.") from None
    except UnicodeDecodeError as error:
        raise CLIError(
            f"Config file {str(path)!r} is not UTF-8 text (TOML is): {error}"
        ) from None
    except OSError as error:
        raise CLIError(
            f"Config file {str(path)!r} cannot be read: {error.strerror or error}"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise CLIError(
            f"Config file {str(path)!r} is not valid TOML: {error}"
        ) from None
    data.pop("versions", None)  # written for the record, not read back
    data.pop("result", None)
    data.pop("checkpointing", None)  # read by `--resume` only
    for section, values in data.items():
        if section not in SECTIONS:
            raise unknown(f"section in {str(path)!r}", section, SECTIONS)
        if not isinstance(values, dict):
            raise CLIError(f"[{section}] in {str(path)!r} must be a table.")
    return data


def parse_assignment(text: str) -> tuple[str, Any]:
    """Splits `key=value`; the value is read as TOML (`3`, `1e-3`, `true`,
    `"relu"`), falling back to the raw string."""
    if "=" not in text:
        raise CLIError(f"`--set {text}` must look like key=value, e.g. num_envs=8.")
    key, raw = (part.strip() for part in text.split("=", 1))
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def build_config(
    *,
    algorithm: str | None = None,
    env_id: str | None = None,
    file: str | Path | None = None,
    assignments: tuple[str, ...] | list[str] = (),
    overrides: dict[str, Any] | None = None,
) -> dict[str, dict]:
    """Composes defaults < file < `--set` < explicit overrides, checks every
    name and type, and returns the full configuration."""
    from_file = read_toml(file) if file is not None else {}
    sets = [parse_assignment(a) for a in assignments]
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    chosen = algorithm or _lookup_run(sets, "algorithm")
    chosen = chosen or from_file.get("run", {}).get("algorithm", "PPO")
    chosen = canonical(chosen, ALGORITHMS, "algorithm")
    config = default_config(chosen)
    policy_given = from_file.get("policy", {}).get("class")
    for key, value in sets:
        if key in ("policy.class", "class"):
            policy_given = value
    if policy_given is not None:
        name = canonical(policy_given, POLICIES, "policy")
        config["policy"] = policy_types(name)[1]
    for section, values in from_file.items():
        for key, value in values.items():
            try:
                _assign(config, section, key, value, f"in {str(file)!r}")
            except CLIError as error:
                hint = _other_class_hint(config, from_file, section, key, file)
                if hint is None:
                    raise
                raise CLIError(hint, error.code) from None
    for key, value in sets:
        section, name = _resolve(config, key)
        _assign(config, section, name, value, f"in `--set {key}=...`")
    for key, value in overrides.items():
        _assign(config, "run", key, value, f"in `--{key.replace('_', '-')}`")
    config["run"]["algorithm"] = chosen
    if env_id is not None:
        config["run"]["env"] = env_id
    check_env(config["run"]["env"])
    for name in ("total_timesteps", "num_seeds", "eval_episodes"):
        if config["run"][name] < 1:
            raise CLIError(f"run.{name} must be >= 1, got {config['run'][name]}.")
    if config["run"]["eval_episodes"] > 2**31 - 1:  # run at once, counted in int32
        raise CLIError(
            f"run.eval_episodes must be at most {2**31 - 1:,}, got "
            f"{config['run']['eval_episodes']}."
        )
    return config


def check_seed(seed: int, name: str, count: int = 1) -> None:
    """Raises a `CLIError` unless the seeds `seed` .. `seed + count - 1` are
    all in 0 .. `MAX_SEED`: a JAX key keeps 32 bits of its seed, so a larger
    seed would silently train or evaluate as a smaller one."""
    last = seed + count - 1
    if 0 <= seed and last <= MAX_SEED:
        return
    what = f"{name} must be between 0 and {MAX_SEED:,} (a JAX key holds 32 bits "
    what += "of its seed; larger seeds repeat smaller ones), got "
    if seed < 0 or count == 1:
        raise CLIError(what + f"{seed}.")
    raise CLIError(
        what + f"{seed} with {count} seeds (up to {last}); lower it to at most "
        f"{MAX_SEED - count + 1}."
    )


def training_eval_key(seed: int) -> Any:
    """The key of the evaluation `lerax train` runs when training ends
    (`seed + 10000`, of which `jax.random.key` keeps the low 32 bits), which
    `lerax evaluate` uses by default to print that return again."""
    import jax.random as jr

    return jr.key((int(seed) + 10_000) % 2**32)


def _other_class_hint(
    config: dict, from_file: dict, section: str, key: str, file: Any
) -> str | None:
    """Why the file's `[section] key` is unknown when the file configures
    another algorithm (or policy class) than the one chosen on the command
    line, with the fix; None otherwise."""
    if section not in ("algorithm", "policy") or key in _types(config, section):
        return None
    written = from_file.get("run", {}).get("algorithm")
    try:
        written = canonical(written, ALGORITHMS, "algorithm")
    except CLIError:
        return None
    chosen = config["run"]["algorithm"]
    where = f"{str(file)!r}"
    if section == "algorithm" and written != chosen:
        return (
            f"{where} configures {written}, and {chosen} was chosen: its "
            f"[algorithm] settings ({key!r}, ...) are {written}'s. Train "
            f"{written} (drop the algorithm argument or setting), or pass a "
            f"config written for {chosen}."
        )
    if section == "policy":
        file_policy = from_file["policy"].get("class", DEFAULT_POLICY[written])
        try:
            file_policy = canonical(file_policy, POLICIES, "policy")
        except CLIError:
            return None
        if file_policy != config["policy"]["class"]:
            return (
                f"The [policy] settings of {where} ({key!r}, ...) are "
                f"{file_policy}'s, and {config['policy']['class']} was chosen: "
                "drop `--set policy.class=...`, or those settings."
            )
    return None


def _lookup_run(sets: list[tuple[str, Any]], name: str) -> Any:
    value = None
    for key, v in sets:
        if key in (name, f"run.{name}"):
            value = v
    return value


def _resolve(config: dict, key: str) -> tuple[str, str]:
    if "." in key:
        section, name = key.split(".", 1)
        if section not in SECTIONS:
            raise unknown("section", section, SECTIONS)
        return section, name
    owners = [s for s in SECTIONS if key in config[s]]
    if len(owners) > 1:
        raise CLIError(
            f"`--set {key}=...` is ambiguous: use one of "
            + ", ".join(f"{s}.{key}" for s in owners)
            + "."
        )
    if not owners:
        valid = [k for s in SECTIONS for k in config[s]]
        raise unknown("hyper-parameter", key, valid)
    return owners[0], key


def _types(config: dict, section: str) -> dict[str, Any]:
    if section == "run":
        return RUN_TYPES
    if section == "algorithm":
        return algorithm_types(config["run"]["algorithm"])
    return policy_types(config["policy"]["class"])[0]


def _assign(config: dict, section: str, key: str, value: Any, where: str) -> None:
    types_ = _types(config, section)
    if section == "run" and key == "algorithm":
        return  # chosen before anything else
    if section == "policy" and key == "class":
        return  # chosen before anything else
    if key not in types_:
        raise unknown(f"{section} hyper-parameter {where}:", key, sorted(types_))
    config[section][key] = coerce(value, types_[key], f"{section}.{key} {where}")


def coerce(value: Any, annotation: Any, name: str) -> Any:
    """Checks `value` against a field's annotation (ints widen to floats,
    whole-number floats such as `1e6` narrow to ints, `"none"` is None for
    optional fields, `True`/`False` are booleans in any case); raises a
    `CLIError` naming the expected type."""
    options = _options(annotation)
    if isinstance(value, str) and value.lower() == "none" and type(None) in options:
        return None
    if int in options and float not in options and _whole(value):
        value = int(value)  # 1e6, as step budgets and buffer sizes are written
    if bool in options and isinstance(value, str):
        # Python's spelling too, as "none" is read for None
        value = {"true": True, "false": False}.get(value.lower(), value)
    for option in options:
        if option is bool and isinstance(value, bool):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            if not INT64[0] <= value <= INT64[1]:
                raise CLIError(
                    f"{name}: {value} is out of range; integers must fit in 64 "
                    f"bits ({INT64[0]:,} to {INT64[1]:,})."
                )
            return value
        if option is float and isinstance(value, (int, float)):
            if not isinstance(value, bool):
                try:
                    return float(value)
                except OverflowError:
                    raise CLIError(
                        f"{name}: {value} is too large for a float."
                    ) from None
        if option is str and isinstance(value, str):
            return value
        if typing.get_origin(option) is typing.Literal and value in option.__args__:
            return value
    raise CLIError(
        f"{name}: expected {describe_type(annotation)}, got {value!r} "
        f"({type(value).__name__})."
    )


def _whole(value: Any) -> bool:
    """Whether `value` is a float holding a whole number (`1e6`)."""
    return isinstance(value, float) and value.is_integer()


def _options(annotation: Any) -> list[Any]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [o for a in typing.get_args(annotation) for o in _options(a)]
    return [annotation]


def describe_type(annotation: Any) -> str:
    """A short human name of an annotation: `int`, `float or none`, ..."""
    names = []
    for option in _options(annotation):
        if option is type(None):
            names.append('none (written "none")')
        elif typing.get_origin(option) is typing.Literal:
            names.append("one of " + ", ".join(repr(a) for a in option.__args__))
        elif isinstance(option, type):
            names.append(option.__name__)
    names = [n for n in names if n not in ("Callable",)]
    return " or ".join(names) or str(annotation)


def check_env(env_id: str) -> None:
    """Raises a `CLIError` listing the known ids when `env_id` is unknown."""
    import lerax.env

    if env_id not in lerax.env.registered():
        raise unknown("environment id", env_id, lerax.env.registered())


@dataclasses.dataclass(frozen=True)
class Setup:
    """What a configuration builds.

    Attributes:
        env: The training environment (behind the configured normalisation).
        algorithm: The algorithm.
        policy_class: The policy class.
        policy_kwargs: Its constructor's keywords (besides `env` and `key`).
        eval_env: The evaluation environment: the env with its observations
            normalised like `env`'s (statistics still to be frozen, see
            `evaluation_env`) and raw rewards.
    """

    env: Any
    algorithm: Any
    policy_class: type
    policy_kwargs: dict[str, Any]
    eval_env: Any

    @property
    def normalizes_observations(self) -> bool:
        """Whether the policy acts on normalised observations (then its
        statistics must be saved and loaded with it)."""
        from ..wrapper import NormalizeObservation

        return isinstance(self.eval_env, NormalizeObservation)

    def evaluation_env(self, env_state: Any) -> Any:
        """`eval_env` frozen at the statistics of training env states
        (batched over envs; `lerax.wrapper.normalization_statistics`)."""
        from ..wrapper import sync_normalization

        return sync_normalization(self.eval_env, self.env, env_state)

    def save_statistics(self, policy_path: str | Path, env_state: Any) -> Path:
        """Saves the observation statistics of training env states
        next to the policy at `policy_path` (`lerax.wrapper.normalization_path`)."""
        from ..wrapper import normalization_path, save_normalization

        synced = self.evaluation_env(env_state)
        return save_normalization(normalization_path(policy_path), synced)

    def load_eval_env(self, policy_path: str | Path) -> Any:
        """The evaluation env of the policy saved at `policy_path`:
        `eval_env`, frozen at the statistics saved next to it when
        observations are normalised."""
        if not self.normalizes_observations:
            return self.eval_env
        from ..wrapper import load_normalization, normalization_path

        path = normalization_path(policy_path)
        try:
            return load_normalization(path, self.eval_env)
        except FileNotFoundError:
            raise CLIError(
                f"The run normalises observations but {str(path)!r} is missing: "
                "the policy cannot be evaluated without the statistics it was "
                "trained with (retrain, or copy the file back).",
                1,
            ) from None
        except ValueError as error:
            raise CLIError(str(error), 1) from None

    def make_policy(self, key: Any) -> Any:
        """A freshly initialised policy."""
        return self.policy_class(self.env, key=key, **self.policy_kwargs)

    def load_policy(self, path: str | Path) -> Any:
        """The policy saved at `path` (an `.eqx` file)."""
        path = Path(path)
        if not path.exists():
            raise CLIError(f"No policy file at {str(path)!r}.", 1)
        try:
            return self.policy_class.deserialize(path, self.env, **self.policy_kwargs)
        except ValueError as error:
            raise CLIError(f"Cannot load {str(path)!r}: {error}", 1) from None


def build(config: dict[str, dict]) -> Setup:
    """Builds the env, algorithm and policy factory of a full configuration."""
    import lerax.env

    run = config["run"]
    cls = algorithm_class(run["algorithm"])
    hyper = dict(config["algorithm"])
    env, eval_env = _normalized(lerax.env.make(run["env"]), run, hyper)
    try:
        # built with the plain rate first: the algorithm range-checks every
        # value, which it cannot do once the rate is a schedule
        algo = cls(**hyper)
        if run["lr_schedule"] == "linear":
            schedule = linear_schedule(cls, hyper, run["total_timesteps"])
            algo = cls(**(hyper | {"learning_rate": schedule}))
    except (TypeError, ValueError) as error:
        raise CLIError(f"{run['algorithm']}: {error}") from None
    kwargs = {k: v for k, v in config["policy"].items() if k != "class"}
    if "activation" in kwargs:
        kwargs["activation"] = ACTIVATIONS[kwargs["activation"]]
    setup = Setup(env, algo, policy_class(config["policy"]["class"]), kwargs, eval_env)
    try:
        eqx.filter_eval_shape(setup.make_policy, jax.random.key(0))
    except (TypeError, ValueError) as error:
        raise CLIError(
            f"{setup.policy_class.__name__} does not fit {run['env']}: {error}"
        ) from None
    return setup


def _normalized(env: Any, run: dict, hyper: dict) -> tuple[Any, Any]:
    """The training and evaluation envs of `run`'s normalisation settings."""
    from ..wrapper import NormalizeObservation, NormalizeReward

    train, evaluation = env, env
    try:
        if run["normalize_reward"]:
            train = NormalizeReward(train, gamma=hyper.get("gamma", 0.99))
        if run["normalize_observation"]:
            train = NormalizeObservation(train)
            evaluation = NormalizeObservation(evaluation)
    except (TypeError, ValueError) as error:
        raise CLIError(f"{run['env']}: {error}") from None
    return train, evaluation


def linear_schedule(cls: type, hyper: dict, total_timesteps: int) -> Any:
    """A learning rate decaying linearly to 0 over the run's optimiser updates
    (of hyper-parameters `hyper`, which `cls` has accepted)."""
    import optax

    if "learning_rate" not in hyper or "num_epochs" not in hyper:
        raise CLIError(
            f'run.lr_schedule = "linear" works with on-policy algorithms '
            f"(PPO, A2C, REINFORCE), not {cls.__name__}; set it to "
            '"constant".'
        )
    per_iteration = hyper["num_envs"] * hyper["num_steps"]
    iterations = max(total_timesteps // per_iteration, 1)
    updates = iterations * hyper["num_epochs"] * hyper["num_batches"]
    return optax.linear_schedule(hyper["learning_rate"], 0.0, updates)
