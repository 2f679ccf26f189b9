"""Calls written for the earlier lerax run here: its signatures (positional
forms, keyword names) beside ours (../shared/spec/upstream-reference.md)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import lerax.env
from lerax.callback import (
    AbstractLoggingBackend,
    ConsoleBackend,
    LoggingCallback,
    ProgressBarCallback,
)
from lerax.policy import MLPActorCriticPolicy
from lerax.render import Color, HeadlessPygameRenderer, Transform
from lerax.utils import filter_cond, filter_scan


def test_filter_cond_passes_several_operands_and_keywords():
    # the earlier `filter_cond(pred, true_fun, false_fun, *args, **kwargs)`
    def add(x, y, *, scale):
        return (x + y) * scale

    def sub(x, y, *, scale):
        return (x - y) * scale

    @jax.jit
    def run(pred):
        return filter_cond(pred, add, sub, jnp.array(3.0), jnp.array(1.0), scale=2.0)

    assert float(run(True)) == 8.0 and float(run(False)) == 4.0
    # one operand, as before; non-array parts pass through
    out = filter_cond(
        jnp.array(False), lambda s: (s[0] + 1, s[1]), lambda s: s, (jnp.ones(2), "id")
    )
    assert out[1] == "id" and np.array_equal(out[0], np.ones(2))


def test_filter_scan_scans_in_reverse_like_lax_scan():
    def step(carry, x):
        return carry * 0.5 + x, carry

    xs = jnp.arange(5.0)
    init = jnp.array(1.0)
    expected = jax.lax.scan(step, init, xs, reverse=True)
    got = filter_scan(step, init, xs, reverse=True)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected)):
        np.testing.assert_allclose(a, b)
    forward = jax.lax.scan(step, init, xs)
    assert not np.allclose(got[1], forward[1])  # the order matters here


def test_logging_and_progress_callbacks_take_the_earlier_arguments(getkey):
    env = lerax.env.make("CartPole-v1")
    policy = MLPActorCriticPolicy(env, key=getkey())
    logging = LoggingCallback([ConsoleBackend()], "my-run", env, policy, hparams={})
    assert logging.sink.name == "my-run"
    logging = LoggingCallback(ConsoleBackend(), env=env, policy=policy)
    assert logging.sink.name is None  # named from the run when it starts
    bar = ProgressBarCallback(1000, "Training", env, policy)
    assert bar.total_timesteps == 1000 and bar.description == "Training"
    assert ProgressBarCallback(name="a", description="b").description == "b"
    bar.stop()  # not started: nothing to close
    bar.host.start("Training", 0, 1000)
    assert bar.host._open
    bar.stop()
    assert not bar.host._open


def test_wandb_backend_takes_config_and_quiet_positionally():
    pytest.importorskip("wandb")
    from lerax.callback import WandbBackend

    backend = WandbBackend("project", {"lr": 0.1}, False)
    assert backend.config == {"lr": 0.1} and backend.quiet is False
    assert WandbBackend().quiet is True


def test_color_tuple_forms():
    assert Color.from_tuple((1.0, 0.5, 0.0)) == Color(255, 128, 0)
    assert Color.from_tuple((1, 0, 0)) == Color(255, 0, 0)  # fractions
    assert Color(255, 0, 51).to_tuple() == (1.0, 0.0, 0.2)
    with pytest.raises(ValueError, match="0, 1"):
        Color.from_tuple((2.0, 0.0, 0.0))
    with pytest.raises(ValueError, match="three"):
        Color.from_tuple((1.0, 0.0))


def _frame(draw):
    renderer = HeadlessPygameRenderer(60, 40, Transform(10.0, (30.0, 20.0)))
    with renderer:
        renderer.clear((255, 255, 255))
        draw(renderer)
        renderer.draw()
        return renderer.frame()


@pytest.mark.parametrize(
    "earlier, ours",
    [
        (
            lambda r: r.draw_rect((0.0, 0.5), 2.0, 1.0, (255, 0, 0)),
            lambda r: r.rect((-1.0, 0.0), (1.0, 1.0), (255, 0, 0)),
        ),
        (
            lambda r: r.draw_circle((1.0, -1.0), 0.5, (0, 0, 255)),
            lambda r: r.circle((1.0, -1.0), 0.5, (0, 0, 255)),
        ),
        (
            lambda r: r.draw_line((-2.0, 0.0), (2.0, 1.0), (0, 0, 0), 3),
            lambda r: r.line((-2.0, 0.0), (2.0, 1.0), (0, 0, 0), width=3),
        ),
        (
            lambda r: r.draw_polygon([(0, 0), (1, 0), (1, 1)], (0, 255, 0)),
            lambda r: r.polygon([(0, 0), (1, 0), (1, 1)], (0, 255, 0)),
        ),
        (
            lambda r: r.draw_polyline([(-2, -1), (0, 1), (2, -1)], (0, 0, 0)),
            lambda r: r.polyline([(-2, -1), (0, 1), (2, -1)], (0, 0, 0)),
        ),
        (
            lambda r: r.draw_text((0.0, 0.0), "hi", (0, 0, 0)),
            lambda r: r.text((0.0, 0.0), "hi", (0, 0, 0), size=12),
        ),
    ],
)
def test_the_earlier_drawing_names_draw_as_ours(earlier, ours):
    np.testing.assert_array_equal(_frame(earlier), _frame(ours))


def test_draw_ellipse_fills_its_axes():
    frame = _frame(lambda r: r.draw_ellipse((0.0, 0.0), 4.0, 2.0, (255, 0, 0)))
    # 40 x 20 px around the centre pixel (30, 20 from the bottom left)
    red = np.all(frame == (255, 0, 0), axis=-1)
    assert red[40 - 1 - 20, 30] and red[40 - 1 - 20, 12] and red[40 - 1 - 28, 30]
    assert not red[40 - 1 - 20, 8] and not red[40 - 1 - 32, 30]
    assert Transform(10.0).scale_length(0.5) == Transform(10.0).length(0.5) == 5.0


def test_filter_cond_operands_are_traced_not_closed_over():
    # a changed operand must not recompile a jitted caller
    traces = []

    @eqx.filter_jit
    def run(x, y):
        traces.append(1)
        return filter_cond(x > 0, lambda a, b: a + b, lambda a, b: a - b, x, y)

    run(jnp.array(1.0), jnp.array(2.0))
    assert float(run(jnp.array(-1.0), jnp.array(2.0))) == -3.0
    assert len(traces) == 1


def test_video_renderer_takes_fps_third(tmp_path):
    from lerax.render import VideoRenderer

    inner = HeadlessPygameRenderer(8, 8)
    video = VideoRenderer(inner, tmp_path / "run.mp4", 60.0)
    assert video.fps == 60.0
    assert VideoRenderer(inner, output_path=tmp_path / "b.mp4", fps=12).fps == 12


def test_gym_to_lerax_env_takes_the_earlier_keyword():
    gymnasium = pytest.importorskip("gymnasium")
    from lerax.compatibility import GymToLeraxEnv

    env = GymToLeraxEnv(env=gymnasium.make("CartPole-v1"))
    assert env.name == "GymToLeraxEnv(CartPole-v1)"
    with pytest.raises(TypeError, match="not both or neither"):
        GymToLeraxEnv()
    with pytest.raises(TypeError, match="not both or neither"):
        GymToLeraxEnv(gymnasium.make("CartPole-v1"), env=gymnasium.make("CartPole-v1"))


class EarlierBackend(AbstractLoggingBackend):
    """A backend as written for the earlier lerax: no `is_open`, no `flush`."""

    def __init__(self):
        self.scalars = []

    def open(self, name):
        self.name = name

    def log_hparams(self, hparams):
        self.hparams = hparams

    def log_scalars(self, scalars, step):
        self.scalars.append((step, scalars))

    def log_video(self, tag, frames, step, fps):
        pass

    def close(self):
        pass


def test_a_backend_written_for_the_earlier_lerax_is_usable():
    backend = EarlierBackend()
    assert not backend.is_open
    sink = LoggingCallback(backend, "run").sink
    sink._open()  # what the first log does
    assert backend.is_open and backend.name == "run"
    backend.flush()
    sink.close()
    assert not backend.is_open


def test_logging_callback_takes_the_earlier_smoothing_and_refuses_its_videos():
    LoggingCallback(ConsoleBackend(), alpha=0.9, video_interval=0)
    with pytest.raises(TypeError, match="EvalCallback"):
        LoggingCallback(ConsoleBackend(), video_interval=10)
    with pytest.raises(TypeError, match="EvalCallback"):
        LoggingCallback(ConsoleBackend(), video_fps=50.0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        LoggingCallback(ConsoleBackend(), log_every=3)


def test_a_per_env_learning_starts_is_told_how_to_convert():
    from lerax.algorithm import SAC

    # the earlier lerax's SAC defaults: 100 steps per env, 4 envs
    with pytest.raises(ValueError, match=r"n \* num_envs"):
        SAC(num_envs=4, learning_starts=100, batch_size=256)
    SAC(num_envs=4, learning_starts=100 * 4, batch_size=256)
