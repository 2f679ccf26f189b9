"""Record a video of CartPole-v1 under a random policy.

The rollout is one compiled `jax.lax.scan`; its stacked states are drawn
off-screen and written to an MP4 (a GIF if ffmpeg is unavailable).

    python examples/render_cartpole.py --steps 200 --out out/cartpole.mp4
"""

import argparse
from pathlib import Path

import jax
import jax.random as jr

import lerax.env
from lerax.render import record_video


def rollout(env, num_steps: int, *, key):
    """Random actions for `num_steps` steps; returns the states visited."""
    reset_key, scan_key = jr.split(key)
    state, _, _ = env.reset(key=reset_key)

    def one_step(state, step_key):
        action_key, env_key = jr.split(step_key)
        action = env.action_space.sample(key=action_key)
        next_state, *_ = env.step(state, action, key=env_key)
        return next_state, state

    _, states = jax.lax.scan(one_step, state, jr.split(scan_key, num_steps))
    return states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("out/cartpole.mp4"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    env = lerax.env.make("CartPole-v1")
    states = jax.jit(rollout, static_argnums=(0, 1))(
        env, args.steps, key=jr.key(args.seed)
    )
    path = record_video(env, states, args.out)  # at the env's 50 fps: real time
    print(f"Wrote {args.steps} frames to {path} at {env.render_fps} fps")


if __name__ == "__main__":
    main()
