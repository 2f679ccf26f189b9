"""Export a PPO policy to ONNX and run it with onnxruntime.

Trains PPO on CartPole-v1 for a few thousand steps (pass `--timesteps 0` to
export the untrained policy), writes `out/export/cartpole_policy.onnx`, then
runs a batch of observations through onnxruntime and through JAX and prints
how well they agree. Needs the `onnx` extra: `pip install "lerax[onnx]"`.

    python examples/export_onnx.py [--timesteps 4096] [--out out/export]
"""

import argparse
import time
from pathlib import Path

import jax
import jax.random as jr
import numpy as np

import lerax.env
from lerax.algorithm import PPO
from lerax.export import onnx_policy_fn, to_onnx
from lerax.policy import MLPActorCriticPolicy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=4096)
    parser.add_argument("--out", type=Path, default=Path("out/export"))
    args = parser.parse_args()

    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=jr.key(0))
    if args.timesteps > 0:
        start = time.perf_counter()
        algo = PPO(num_envs=4, num_steps=128)
        policy = algo.learn(env, policy, args.timesteps, key=jr.key(1))
        print(
            f"Trained PPO for {args.timesteps} steps in {time.perf_counter() - start:.1f} s"
        )

    start = time.perf_counter()
    model = to_onnx(policy, output_path=args.out / "cartpole_policy")
    path = args.out / "cartpole_policy.onnx"
    inputs = [i.name for i in model.graph.input]
    outputs = [o.name for o in model.graph.output]
    print(
        f"Exported to {path} in {time.perf_counter() - start:.1f} s: {inputs} -> {outputs}"
    )

    # a batch of observations (any batch size works: the batch axis is dynamic)
    keys = jr.split(jr.key(2), 256)
    observations = jax.vmap(lambda k: env.observation_space.sample(key=k))(keys)
    run = onnx_policy_fn(path)
    out = run(np.asarray(observations))

    _, actions = jax.vmap(lambda o: policy(None, o))(observations)
    _, values = jax.vmap(lambda o: policy.value(None, o))(observations)
    same = np.mean(out["action"] == np.asarray(actions))
    error = np.max(np.abs(out["value"] - np.asarray(values)))
    print(f"onnxruntime vs JAX on {len(keys)} observations:")
    print(f"  actions identical: {same:.1%}")
    print(f"  max |value difference|: {error:.2e}")
    if same < 1.0 or error > 1e-5:
        raise SystemExit("onnxruntime and JAX disagree")


if __name__ == "__main__":
    main()
