"""Colours, transforms, the pygame renderers and the env rendering protocol."""

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from lerax.render import (
    Abstract2DRenderer,
    Color,
    HeadlessPygameRenderer,
    PygameRenderer,
    Transform,
    render_rgb,
)
from tests.wrapper.toy_envs import BoxActionEnv

pytest.importorskip("pygame")


def test_color_accepts_ints_floats_and_hex():
    assert Color.of((202, 152, 101)) == Color(202, 152, 101)
    assert Color.of((1.0, 0.5, 0.0)) == Color(255, 128, 0)
    assert Color.of("#ca9865") == Color(202, 152, 101)
    assert Color.of(np.array([1, 2, 3])) == Color(1, 2, 3)
    assert Color(255, 0, 51).floats == (1.0, 0.0, 0.2)


@pytest.mark.parametrize(
    "bad", [(1, 2), (256, 0, 0), (1.5, 0.0, 0.0), "#12345", "red", None, (True, 0, 0)]
)
def test_color_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="[Cc]olou?r"):
        Color.of(bad)


def test_transform_maps_world_to_y_up_pixels():
    t = Transform(10.0, (50.0, 20.0))
    assert t.point((1.0, 2.0)) == (60.0, 40.0)
    np.testing.assert_allclose(t.points([(0, 0), (-1, 1)]), [[50, 20], [40, 30]])
    assert t.length(0.5) == 5.0
    fit = Transform.fit((-2.4, 2.4), 600)
    np.testing.assert_allclose(fit.point((-2.4, 0.0)), (0.0, 0.0), atol=1e-9)
    np.testing.assert_allclose(fit.point((2.4, 1.0)), (600.0, 125.0))
    with pytest.raises(ValueError, match="scale"):
        Transform(0.0)
    with pytest.raises(ValueError, match="increasing"):
        Transform.fit((1.0, 1.0), 10)


def test_headless_primitives_draw_in_world_coordinates_with_y_up():
    renderer = HeadlessPygameRenderer(100, 80, Transform(10.0, (50.0, 40.0)))
    assert isinstance(renderer, Abstract2DRenderer)
    with renderer:
        renderer.clear((1.0, 1.0, 1.0))
        renderer.rect((-1.0, 1.0), (1.0, 3.0), (255, 0, 0))  # above the centre
        renderer.circle((-3.0, -2.0), 0.5, "#0000ff")  # lower left
        renderer.line((-5.0, -4.0), (5.0, -4.0), (0, 0, 0))  # bottom row
        renderer.polyline([(-5.0, 0.0), (5.0, 0.0)], (0, 255, 0), width=2)
        renderer.polygon([(3.0, 1.0), (4.0, 1.0), (4.0, 2.0)], (0, 0, 0), filled=False)
        renderer.draw()
        frame = renderer.frame()
    assert frame.shape == (80, 100, 3) and frame.dtype == np.uint8
    # World y = 2 is 20 px above the centre row: image row 40 - 20 = 20.
    np.testing.assert_array_equal(frame[20, 50], (255, 0, 0))
    np.testing.assert_array_equal(frame[60, 20], (0, 0, 255))
    assert np.all(frame[79, :] == 0)  # world y = -4 is the bottom row
    # Pixel row p (counted upwards) is image row height - 1 - p, as in Gymnasium.
    assert np.all(frame[80 - 1 - 40, 5:95] == (0, 255, 0))
    assert np.all(frame[5, 5] == 255)


def test_text_is_drawn_upright():
    renderer = HeadlessPygameRenderer(120, 60)
    with renderer:
        renderer.clear()
        renderer.text((60, 30), "T", (0, 0, 0), size=40)
        frame = renderer.frame()
    ink_rows = np.nonzero(np.any(frame < 128, axis=(1, 2)))[0]
    assert 15 <= ink_rows.min() and ink_rows.max() <= 45
    # "T": its bar is at the top, so the top ink row is wider than the bottom one.
    middle = (ink_rows.min() + ink_rows.max()) // 2
    assert np.sum(frame[ink_rows.min() + 1] < 128) > 3 * np.sum(frame[middle] < 128)
    with pytest.raises(ValueError, match="anchor"):
        with renderer:
            renderer.text((0, 0), "x", anchor="middle")


def test_drawing_before_open_is_an_error():
    renderer = HeadlessPygameRenderer(10, 10)
    with pytest.raises(RuntimeError, match="open"):
        renderer.frame()
    with pytest.raises(ValueError, match="width"):
        HeadlessPygameRenderer(0, 10)


def test_window_renderer_opens_on_dummy_display():
    renderer = PygameRenderer(64, 48, Transform(8.0, (32.0, 24.0)), title="test")
    renderer.open()
    try:
        renderer.clear((0, 0, 0))
        renderer.circle((0.0, 0.0), 1.0, (255, 255, 255))
        renderer.draw()
        assert renderer.frame()[24, 32].tolist() == [255, 255, 255]
    finally:
        renderer.close()


def test_env_without_rendering_says_so():
    env = BoxActionEnv()
    with pytest.raises(NotImplementedError, match="BoxAction.*default_renderer"):
        env.default_renderer()
    with pytest.raises(NotImplementedError, match="BoxAction.*render"):
        render_rgb(env, env.initial(key=None))


def test_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "pygame", None)
    with pytest.raises(ImportError, match=r'pip install "lerax\[render\]"'):
        HeadlessPygameRenderer(10, 10)
    import lerax.env

    with pytest.raises(ImportError, match=r"lerax\[render\]"):
        lerax.env.make("CartPole-v1").default_renderer(headless=True)


def test_circle_centre_is_truncated_towards_zero_like_gymnasium():
    import pygame
    from pygame import gfxdraw

    # centres at x = -6.24 px and y = -0.5 px: Gymnasium's `int(...)` gives -6
    # and 0 (a floor would give -7 and -1)
    renderer = HeadlessPygameRenderer(40, 30, Transform(1.0, (0.0, 0.0)))
    with renderer:
        renderer.clear()
        renderer.circle((-6.24, 15.0), 10.0, (0, 0, 0))
        renderer.circle((20.0, -0.5), 4.0, (0, 0, 255))
        ours = renderer.frame()
    surface = pygame.Surface((40, 30))
    surface.fill((255, 255, 255))
    for x, y, r, color in (
        (-6.24, 15.0, 10.0, (0, 0, 0)),
        (20.0, -0.5, 4.0, (0, 0, 255)),
    ):
        gfxdraw.aacircle(surface, int(x), int(y), int(r), color)
        gfxdraw.filled_circle(surface, int(x), int(y), int(r), color)
    theirs = pygame.surfarray.array3d(pygame.transform.flip(surface, False, True))
    np.testing.assert_array_equal(ours, theirs.transpose(1, 0, 2))


@pytest.fixture
def no_display(monkeypatch):
    """A Linux machine without a display, and no `SDL_VIDEODRIVER` set."""
    import pygame

    import lerax.render._pygame as pygame_module

    for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(pygame_module, "_driver_set_by_lerax", None)
    if pygame.display.get_init():
        pygame.display.quit()
    return pygame


def test_window_without_display_says_to_draw_headless(no_display):
    renderer = PygameRenderer(64, 48)
    with pytest.raises(RuntimeError, match="no display.*HeadlessPygameRenderer"):
        renderer.open()
    # refused before SDL started a display driver (its "offscreen" one breaks
    # MuJoCo's EGL rendering later in the process)
    assert not no_display.display.get_init()
    assert not renderer.is_open


def test_headless_renderers_driver_is_not_a_request_for_a_window(no_display):
    import os

    with HeadlessPygameRenderer(10, 10) as headless:  # sets SDL's dummy driver
        headless.clear()
    assert os.environ["SDL_VIDEODRIVER"] == "dummy"
    with pytest.raises(RuntimeError, match="HeadlessPygameRenderer"):
        PygameRenderer(64, 48).open()
    assert not no_display.display.get_init()


def test_window_on_an_unusable_display_says_to_draw_headless():
    # SDL falls back to "offscreen" when DISPLAY names no server; in a child
    # process, since starting that driver would disturb EGL in this one
    import os
    import subprocess

    code = (
        "from lerax.render import PygameRenderer\n"
        "renderer = PygameRenderer(16, 16)\n"
        "try:\n"
        "    renderer.open()\n"
        "except RuntimeError as error:\n"
        "    print(error)\n"
        "print('open:', renderer.is_open)\n"
    )
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SDL_VIDEODRIVER", "WAYLAND_DISPLAY")
    }
    environment["DISPLAY"] = "no-such-host.invalid:97"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    assert "HeadlessPygameRenderer" in result.stdout
    assert "open: False" in result.stdout


@pytest.mark.parametrize(
    "value",
    [
        jnp.array([255, 128, 0]),
        jnp.array([255, 128, 0], jnp.uint8),
        (jnp.int32(255), jnp.array(128), np.int16(0)),
        np.array([255, 128, 0], np.int32),
    ],
)
def test_color_reads_jax_and_numpy_integers_as_0_255(value):
    assert Color.of(value) == Color(255, 128, 0)


def test_color_reads_jax_floats_as_fractions_and_refuses_bools():
    assert Color.of(jnp.array([1.0, 0.5, 0.0])) == Color(255, 128, 0)
    with pytest.raises(ValueError, match=r"Integer colour components.*\[0, 255\]"):
        Color.of(jnp.array([256, 0, 0]))
    for bad in (jnp.array([True, False, False]), (np.True_, 0, 0)):
        with pytest.raises(ValueError, match="three ints in"):
            Color.of(bad)


@pytest.mark.parametrize(
    "scale",
    [
        0,
        -1.0,
        np.float32(-1.0),
        np.float32(0.0),
        np.int64(0),
        jnp.array(-2.0),
        jnp.float32(0.0),
        np.float64("nan"),
    ],
)
def test_transform_refuses_non_positive_scale_of_any_type(scale):
    with pytest.raises(ValueError, match=r"Transform\(scale=\.\.\.\)` must be > 0"):
        Transform(scale)


@pytest.mark.parametrize("scale", [np.float32(2.0), jnp.array(2.0), np.int32(2)])
def test_transform_accepts_positive_scale_of_any_type(scale):
    assert Transform(scale).point((1.0, 1.0)) == (2.0, 2.0)


def test_transform_inside_jit_is_not_checked():
    @jax.jit
    def scaled(scale):
        return Transform(scale).scale

    assert scaled(jnp.array(3.0)) == 3.0

    @jax.jit
    def shifted(x):
        return Transform(1.0, (x, x + 1.0)).offset[1]

    assert shifted(jnp.array(3.0)) == 4.0


@pytest.mark.parametrize(
    "scale",
    [float("inf"), np.float32("inf"), jnp.array(jnp.inf), True, "2", None],
    ids=repr,
)
def test_transform_refuses_infinite_or_non_numeric_scale(scale):
    """An infinite scale put every point at infinity (NaN pixels when drawn)."""
    with pytest.raises(ValueError, match=r"Transform\(scale=\.\.\.\)` must be > 0"):
        Transform(scale)


@pytest.mark.parametrize(
    "offset",
    [(float("nan"), 0.0), (0.0, np.float32("inf")), ("a", 0.0), (1.0,), 5.0, None],
    ids=repr,
)
def test_transform_refuses_offsets_that_are_not_two_finite_numbers(offset):
    with pytest.raises(ValueError, match=r"Transform\(offset=\.\.\.\)` must be a pair"):
        Transform(1.0, offset)


def test_transform_accepts_offsets_of_any_numeric_type():
    offset = (np.float32(1.5), jnp.array(2))
    assert Transform(2.0, offset).point((1.0, 1.0)) == (3.5, 4.0)
    assert Transform(2.0, jnp.array([1.0, 2.0])).point((0.0, 0.0)) == (1.0, 2.0)


# The earlier lerax's names that map onto ours one to one.


def test_color_hex_and_rgb255_helpers_of_the_earlier_lerax():
    assert Color.from_hex("#ff8000") == Color(255, 128, 0)
    assert Color.from_hex("ca9865") == Color(202, 152, 101)
    assert Color(202, 152, 101).to_hex() == "#ca9865"
    assert Color.from_rgb255(1, 2, 3) == Color(1, 2, 3)
    assert Color(1, 2, 3).to_rgb255() == (1, 2, 3)
    assert type(Color(*np.array([1, 2, 3])).to_rgb255()[0]) is int
    with pytest.raises(ValueError, match="'#rrggbb'"):
        Color.from_hex((1, 2, 3))
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        Color.from_rgb255(256, 0, 0)
    # a Color built from the earlier 0-1 floats is refused, naming the fix
    with pytest.raises(ValueError, match=r"ints in \[0, 255\].*Color\.of\("):
        Color(1.0, 0.5, 0.0)


def test_as_array_is_frame():
    renderer = HeadlessPygameRenderer(40, 30, Transform(1.0, (0.0, 0.0)))
    with renderer:
        renderer.clear((255, 0, 0))
        renderer.draw()
        np.testing.assert_array_equal(renderer.as_array(), renderer.frame())
        assert renderer.as_array().shape == (30, 40, 3)


@pytest.mark.parametrize(
    "components",
    [
        (256, 0, 0),
        (0, -1, 0),
        (0, 0, 1000),
        (float("nan"), 0, 0),
        (0, float("inf"), 0),
        (1.0, 0.5, 0.0),
        (255.0, 0, 0),
        (np.float32(0.5), 0, 0),
        (jnp.array(1.5), 0, 0),
        (True, 0, 0),
        (0, np.bool_(False), 0),
        ("1", 2, 3),
        (None, 2, 3),
        (np.array([1, 2]), 2, 3),
    ],
    ids=repr,
)
def test_color_constructor_checks_its_components(components):
    """`Color(r, g, b)` refuses anything but ints in [0, 255]: out of range,
    NaN, floats (the earlier lerax's 0-1 fractions), booleans, non-numbers."""
    with pytest.raises(ValueError, match=r"ints in \[0, 255\]"):
        Color(*components)
    with pytest.raises(ValueError, match=r"ints in \[0, 255\]"):
        Color(0, 0, 0)._replace(r=components[0], g=components[1], b=components[2])


@pytest.mark.parametrize("components", [(), (1, 2), (1, 2, 3, 4)], ids=repr)
def test_color_constructor_needs_three_components(components):
    with pytest.raises(TypeError, match="three components"):
        Color(*components)
    with pytest.raises(TypeError, match="three components"):
        Color._make(components)


def test_color_constructor_reads_integer_scalars_as_ints():
    color = Color(np.uint8(5), np.int64(7), b=jnp.int32(255))
    assert color == (5, 7, 255) and all(type(c) is int for c in color)
    assert Color(r=1, g=2, b=3) == Color(1, 2, 3) == Color._make([1, 2, 3])
    with pytest.raises(TypeError, match="'a'"):
        Color(1, 2, 3, a=4)


def _drawn(draw):
    renderer = HeadlessPygameRenderer(200, 100, Transform(1.0, (0.0, 0.0)))
    with renderer:
        renderer.clear()
        draw(renderer)
        return renderer.frame()


@pytest.mark.parametrize(
    "draw",
    [
        lambda r, far: r.line((0, 50), (far, 50 + far / 100), (0, 0, 0)),
        lambda r, far: r.polyline(
            [(100 - far, 20 - far / 50), (100, 20), (100 + far, 20 + far / 200)],
            (0, 0, 0),
            closed=True,
        ),
        lambda r, far: r.polyline([(0, 50), (far, 50 + far / 100)], (0, 0, 0), width=3),
        lambda r, far: r.polygon(
            [(10, 10), (10 + far, 10 + far / 100), (10 + far, 10)], "#ff0000"
        ),
        lambda r, far: r.polygon(
            [(100 - far, 60 - far), (100 + far, 60 - far), (100, 60)],
            (0, 0, 0),
            filled=False,
        ),
    ],
    ids=["line", "closed_polyline", "wide_polyline", "polygon", "outline"],
)
def test_shapes_reaching_far_off_screen_keep_their_visible_part(draw):
    """A shape with a point beyond pygame's 16-bit coordinates is cut at the
    limit, not squashed onto it: the visible part is the same as when the
    point lies just off-screen on the same lines."""
    near = _drawn(lambda r: draw(r, 20_000.0))
    far = _drawn(lambda r: draw(r, 5e6))
    assert (near != 255).any()  # something is visible
    np.testing.assert_array_equal(far, near)


def test_shapes_entirely_far_off_screen_draw_nothing():
    blank = _drawn(lambda r: None)
    far = 1e6
    frame = _drawn(
        lambda r: (
            r.line((far, far), (2 * far, far), (0, 0, 0)),
            r.polyline([(far, 0), (far, 50), (2 * far, 0)], (0, 0, 0)),
            r.polygon([(far, 0), (far, 50), (2 * far, 0)], (0, 0, 0)),
        )
    )
    np.testing.assert_array_equal(frame, blank)


@pytest.mark.parametrize("filled", [True, False])
@pytest.mark.parametrize(
    "center,radius",
    [((100.0, -39_950.0), 40_000.0), ((100.0, -20_000.0), 20_050.0)],
    ids=["beyond_16_bits", "edge_beyond_16_bits"],
)
def test_huge_circles_draw_their_visible_arc(center, radius, filled):
    """A circle reaching beyond gfxdraw's 16-bit coordinates raised an
    `OverflowError` or drew nothing; its visible part is now drawn: here the
    bottom 50 rows, under a nearly flat arc."""
    frame = _drawn(lambda r: r.circle(center, radius, (0, 0, 0), filled=filled))
    dark = (frame != 255).any(-1)
    if filled:
        assert dark[52:].all() and not dark[:48].any()
    else:  # only the arc, about one row thick
        assert dark[49:52].any(axis=0).mean() > 0.97 and not dark[:48].any()
        assert not dark[53:].any()
