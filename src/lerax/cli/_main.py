"""The `lerax` command: argument parsing and the error boundary."""

import argparse
import difflib
import sys
from collections.abc import Sequence
from typing import Any

from ._callbacks import LOGGERS
from ._errors import CLIError

COMMANDS = ("train", "evaluate", "record", "export", "list", "benchmark")
EPILOG = """\
examples:
  lerax train                          PPO on CartPole-v1 (the embedded default)
  lerax train SAC Pendulum-v1 --total-timesteps 20000 --out runs/sac
  lerax train PPO CartPole-v1 --set num_envs=16 --set policy.activation=relu
  lerax train --num-seeds 4            four seeds in one vmap, mean and spread
  lerax evaluate runs/sac --episodes 100
  lerax export runs/sac                 runs/sac/policy.onnx (needs lerax[onnx])
"""


def whole_number(text: str) -> int:
    """An argparse type: a count written `100000`, `100_000` or `1e5` (the
    RL Zoo writes budgets as floats)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        value = 0.5
    if not value.is_integer():
        raise argparse.ArgumentTypeError(
            f"expected a whole number such as 100000 or 1e5, got {text!r}"
        )
    return int(value)


def parser() -> argparse.ArgumentParser:
    """The argument parser of the `lerax` command."""
    root = argparse.ArgumentParser(
        prog="lerax",
        description="Train, evaluate and record lerax agents.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root.add_argument(
        "--debug", action="store_true", help="show tracebacks instead of messages"
    )
    sub = root.add_subparsers(dest="command", metavar="COMMAND")
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
    )

    train = sub.add_parser(
        "train",
        parents=[debug],
        help="train an agent (default: PPO on CartPole-v1)",
        description=(
            "Train an agent. Configuration precedence: embedded defaults < "
            "--config < --set (and the positional arguments and flags)."
        ),
    )
    train.add_argument("algorithm", nargs="?", metavar="ALGO", help="e.g. PPO, SAC")
    train.add_argument("env_id", nargs="?", metavar="ENV_ID", help="e.g. CartPole-v1")
    train.add_argument(
        "--total-timesteps", type=whole_number, metavar="N", help="e.g. 100000 or 1e5"
    )
    train.add_argument(
        "--seed", type=int, metavar="S", help="0 to 4294967295 (default 0)"
    )
    train.add_argument(
        "--num-seeds",
        type=int,
        metavar="K",
        help="train seeds S..S+K-1 in one vmap; policy.eqx is the best seed's, "
        "policies/seed_*.eqx each seed's",
    )
    train.add_argument(
        "--devices",
        type=int,
        metavar="N",
        help="train on the first N devices (on a CPU-only machine, N CPU "
        "devices, one per core at most is useful): with --num-seeds a multiple "
        "of N the seeds are spread over them, otherwise each seed's envs are "
        "split; the results are the one-device results",
    )
    train.add_argument("--config", metavar="FILE.toml", help="a configuration file")
    train.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override one value, e.g. num_envs=8 or policy.activation=relu "
        "(repeatable; values are TOML: 3, 1e-3, true, none)",
    )
    train.add_argument(
        "--out",
        metavar="DIR",
        help="output folder (default: a new folder runs/algo-ENV_ID-DATE-TIME); "
        "a run there replaces the policy, metrics and plot of an earlier one "
        "when it starts",
    )
    train.add_argument(
        "--logger",
        choices=LOGGERS,
        help="also log metrics and hyper-parameters: to the terminal, to "
        "TensorBoard (event files in DIR/tb) or to W&B (project lerax, its "
        "local files in DIR/wandb)",
    )
    train.add_argument(
        "--checkpoint-every",
        type=whole_number,
        metavar="N",
        help="write a checkpoint to DIR/checkpoints every N env steps (a "
        "resumed run goes on at the interval it was trained with)",
    )
    train.add_argument(
        "--resume",
        metavar="PATH",
        help="continue from a checkpoint file or a run folder: its config.toml "
        "is used (settings may not change, the budget may grow) and the outputs "
        "go to that folder unless --out is given",
    )

    evaluate = sub.add_parser(
        "evaluate", parents=[debug], help="evaluate a trained policy"
    )
    evaluate.add_argument("directory", metavar="DIR", help="a `lerax train` folder")
    evaluate.add_argument(
        "--episodes",
        type=int,
        default=None,
        metavar="N",
        help="default: the run's eval_episodes (32 unless set)",
    )
    evaluate.add_argument(
        "--seed",
        type=int,
        default=None,
        help="default: the key of the evaluation training ended with, which "
        "this then prints again",
    )
    evaluate.add_argument(
        "--stochastic", action="store_true", help="sample actions instead"
    )

    record = sub.add_parser(
        "record", parents=[debug], help="record a video of a trained policy"
    )
    record.add_argument("directory", metavar="DIR", help="a `lerax train` folder")
    record.add_argument("--out", required=True, metavar="VIDEO", help="e.g. run.mp4")
    record.add_argument(
        "--fps",
        type=int,
        default=None,
        metavar="N",
        help="frames per second (default: the env's real-time rate, its "
        "`render_fps`, e.g. 50 for CartPole-v1)",
    )
    record.add_argument("--seed", type=int, default=0)
    record.add_argument("--max-steps", type=int, default=1000, metavar="N")

    export = sub.add_parser(
        "export",
        parents=[debug],
        help="export a trained policy to ONNX (needs lerax[onnx])",
        description=(
            "Write the trained policy as an ONNX model (deterministic action, "
            "plus value or Q-values) for a batch of observations. A run that "
            "normalises observations exports a model that takes raw ones (the "
            "saved statistics are in the graph). The model is checked against "
            "JAX under onnxruntime before the command returns."
        ),
    )
    export.add_argument("directory", metavar="DIR", help="a `lerax train` folder")
    export.add_argument(
        "--out", metavar="MODEL.onnx", help="output file (default DIR/policy.onnx)"
    )
    export.add_argument(
        "--opset", type=int, metavar="N", help="ONNX opset (default 21; 13 or more)"
    )
    export.add_argument(
        "--action-mask",
        action="store_true",
        help="add an action_mask input (discrete action spaces)",
    )

    sub.add_parser(
        "list",
        parents=[debug],
        help="list algorithms, policies (--set policy.class=NAME) and environment ids",
    )

    bench = sub.add_parser(
        "benchmark", parents=[debug], help="time a PPO run (env steps per second)"
    )
    bench.add_argument("env_id", nargs="?", default="CartPole-v1", metavar="ENV_ID")
    bench.add_argument(
        "--total-timesteps", type=whole_number, default=262_144, metavar="N"
    )
    bench.add_argument("--num-envs", type=int, default=64, metavar="N")
    bench.add_argument("--num-steps", type=int, default=128, metavar="N")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the `lerax` command; returns its exit status.

    Exit status: 0 on success, 2 for bad input (unknown names, wrong types;
    the message lists the valid choices), 1 when the run itself fails.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if a != "--debug"), None)
    from rich.markup import escape

    if first not in (*COMMANDS, "-h", "--help"):
        mistyped = mistyped_command(first)
        if mistyped is not None:
            if "--debug" in argv:
                raise mistyped
            _console(stderr=True).print(f"[bold red]error:[/] {escape(str(mistyped))}")
            return mistyped.code
        # no command: `lerax [--debug] [train's arguments]` trains
        argv = ["train", *argv]
    args = parser().parse_args(argv)
    # results on stdout; errors on stderr, as argparse's own
    console, errors = _console(), _console(stderr=True)
    try:
        return _dispatch(args, console)
    except CLIError as error:
        if args.debug:
            raise
        errors.print(f"[bold red]error:[/] {escape(str(error))}")
        return error.code
    except KeyboardInterrupt:
        errors.print("interrupted")
        return 130
    except Exception as error:  # the last line of defence: no traceback
        if args.debug:
            raise
        errors.print(
            f"[bold red]error:[/] {type(error).__name__}: {escape(str(error))}\n"
            "(run `lerax --debug ...` for the traceback)"
        )
        return 1


def mistyped_command(word: str | None) -> CLIError | None:
    """A `CLIError` suggesting the command `word` is a typo of, or None.

    Without a command `lerax` trains and reads its first word as an
    algorithm; a word close to a command name and to no algorithm is far
    more likely a mistyped command (`lerax evalute DIR`)."""
    if word is None or word.startswith("-"):
        return None
    close = difflib.get_close_matches(word.lower(), COMMANDS, n=1, cutoff=0.6)
    if not close:
        return None
    from ._config import ALGORITHMS

    algorithms = {name.lower(): name for name in ALGORITHMS}
    if word.lower() in algorithms:
        return None
    if difflib.get_close_matches(word.lower(), algorithms, n=1, cutoff=0.6):
        return None  # also close to an algorithm: `lerax train` suggests it
    return CLIError(
        f"Unknown command or algorithm {word!r}; did you mean `{close[0]}`? "
        f"Commands: {', '.join(COMMANDS)} (`lerax --help`)."
    )


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, stderr=stderr)


def _dispatch(args: argparse.Namespace, console: Any) -> int:
    if args.command == "train":
        from ._train import run_train

        return run_train(args, console)
    from . import _commands

    commands = {
        "evaluate": _commands.run_evaluate,
        "record": _commands.run_record,
        "export": _commands.run_export,
        "list": _commands.run_list,
        "benchmark": _commands.run_benchmark,
    }
    return commands[args.command](args, console)
