"""SAC on Pendulum-v1 (20k steps) and DQN on CartPole-v1 (100k steps) with
Stable-Baselines3, sbx and rejax, for `bench/off_policy.py` (peers venv).

Prints one JSON line: {library: {task: {"seconds": ..., "return": ...}}}.
Wall time includes compilation; returns are the mean of 32 greedy episodes.
"""

import json
import os
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
# SB3 makes an empty log folder in the system temp folder for every model it
# builds, logging on or off: these go in one folder, removed at exit
_SB3_LOGS = tempfile.TemporaryDirectory(prefix="sb3-logs-")
os.environ.setdefault("SB3_LOGDIR", _SB3_LOGS.name)

import numpy as np  # noqa: E402

SAC_KW = dict(
    learning_rate=1e-3,
    buffer_size=20_000,
    batch_size=256,
    learning_starts=256,
    tau=0.005,
    gamma=0.99,
)
# the shared configuration (batch 256) and a lighter one (batch 64)
SAC_BATCHES = {"sac_pendulum": 256, "sac_pendulum_b64": 64}
DQN_KW = dict(
    learning_rate=2.3e-3,
    batch_size=64,
    buffer_size=100_000,
    learning_starts=1000,
    gamma=0.99,
    target_update_interval=10,
    train_freq=256,
    gradient_steps=128,
    exploration_fraction=0.16,
    exploration_final_eps=0.04,
)


def sb3_like(module):
    import gymnasium as gym
    from stable_baselines3.common.evaluation import evaluate_policy

    def run(cls, env_id, width, steps, kwargs):
        """Builds and trains one model (timed), then its greedy return."""
        start = time.perf_counter()
        model = cls(
            "MlpPolicy",
            gym.make(env_id),
            policy_kwargs={"net_arch": [width, width]},
            seed=0,
            verbose=0,
            **kwargs,
        )
        model.learn(steps)
        seconds = time.perf_counter() - start
        mean, _ = evaluate_policy(
            model, gym.make(env_id), n_eval_episodes=32, deterministic=True
        )
        return {"seconds": seconds, "return": float(mean)}

    out = {
        task: run(
            module.SAC, "Pendulum-v1", 64, 20_000, {**SAC_KW, "batch_size": batch}
        )
        for task, batch in SAC_BATCHES.items()
    }
    out["dqn_cartpole"] = run(module.DQN, "CartPole-v1", 256, 100_000, DQN_KW)
    return out


def rejax_results():
    import jax
    from rejax import DQN, SAC

    out = {}
    sac_runs = [
        (
            task,
            SAC,
            dict(
                env="Pendulum-v1",
                learning_rate=1e-3,
                buffer_size=20_000,
                batch_size=batch_size,
                fill_buffer=256,
                polyak=0.995,  # tau = 0.005
                gamma=0.99,
                agent_kwargs={"hidden_layer_sizes": (64, 64), "activation": "relu"},
            ),
            20_000,
        )
        for task, batch_size in SAC_BATCHES.items()
    ]
    for name, cls, config, total in sac_runs + [
        (
            "dqn_cartpole",
            DQN,
            dict(
                env="CartPole-v1",
                learning_rate=2.3e-3,
                batch_size=64,
                buffer_size=100_000,
                fill_buffer=1000,
                gamma=0.99,
                target_update_freq=10,
                num_envs=1,
                # rejax fixes the Q-network at 64x64 (the others use 256x256)
                agent_kwargs={"activation": "relu"},
                eps_end=0.04,
                exploration_fraction=0.16,
            ),
            100_000,
        ),
    ]:
        try:
            algo = cls.create(
                total_timesteps=total,
                eval_freq=total,
                skip_initial_evaluation=True,
                **config,
            )
        except TypeError as error:  # configuration names differ between versions
            out[name] = {"seconds": None, "return": None, "error": str(error)[:200]}
            continue
        start = time.perf_counter()
        _, evaluation = jax.block_until_ready(jax.jit(algo.train)(jax.random.key(0)))
        out[name] = {
            "seconds": time.perf_counter() - start,
            "return": float(np.mean(evaluation[1][-1])),
        }
    return out


def main() -> None:
    result = {}
    import stable_baselines3

    result["SB3"] = sb3_like(stable_baselines3)
    try:
        import sbx

        result["sbx"] = sb3_like(sbx)
    except ImportError:
        result["sbx"] = None
    result["rejax"] = rejax_results()
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
