"""`Color`: an RGB colour that accepts 0-255 integers or 0-1 floats."""

import numbers
from typing import Any, NamedTuple

import numpy as np


class _ColorFields(NamedTuple):
    r: int
    g: int
    b: int


class Color(_ColorFields):
    """An RGB colour with 8-bit integer components.

    Build one directly from three integers in `[0, 255]`
    (`Color(202, 152, 101)`; NumPy and JAX integer scalars are read as ints),
    or convert anything colour-like with `Color.of`: another `Color`, a
    3-sequence of integers in `[0, 255]`, a 3-sequence of floats in `[0, 1]`
    (`(1.0, 0.5, 0.0)`), or a ``"#rrggbb"`` string. Renderers accept any of
    these wherever a colour is asked for.

    The constructor checks its components: anything but three integers in
    `[0, 255]` (floats such as the earlier lerax's 0-1 fractions, NaN,
    booleans, out-of-range values) raises rather than giving a wrong colour
    when it is drawn.

    Attributes:
        r: Red, 0-255.
        g: Green, 0-255.
        b: Blue, 0-255.
    """

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> "Color":
        names = cls._fields
        given = dict(zip(names, args))
        for name, value in kwargs.items():
            if name not in names or name in given:
                problem = "an unknown" if name not in names else "a repeated"
                raise TypeError(
                    f"`Color` got {problem} component {name!r}: it takes three "
                    "components r, g, b."
                )
            given[name] = value
        if len(args) > len(names) or len(given) != len(names):
            count = len(args) + len(kwargs)
            raise TypeError(
                f"`Color(r, g, b)` takes three components (ints in [0, 255]), got "
                f"{count}: {(*args, *kwargs.values())!r}. Use `Color.of(...)` for "
                "a sequence, 0-1 floats or a '#rrggbb' string."
            )
        parts = tuple(given[name] for name in names)
        return super().__new__(cls, *_components(parts))

    @classmethod
    def _make(cls, iterable: Any) -> "Color":
        # `_replace` and `_make` go through the checks too
        return cls(*iterable)

    @classmethod
    def of(cls, value: Any) -> "Color":
        """Converts a colour-like value to a `Color`.

        Args:
            value: A `Color`, a 3-sequence of ints in `[0, 255]`, a 3-sequence
                containing floats in `[0, 1]` (all components are then read
                as fractions), or a ``"#rrggbb"`` hex string.

        Returns:
            The colour.

        Raises:
            ValueError: If `value` is not one of the above.
        """
        if isinstance(value, Color):
            return value
        if isinstance(value, str):
            text = value.removeprefix("#")
            if len(text) == 6:
                try:
                    return cls(*(int(text[i : i + 2], 16) for i in (0, 2, 4)))
                except ValueError:
                    pass
            raise ValueError(f"Colour strings must look like '#rrggbb', got {value!r}.")
        try:
            parts = [_as_number(c) for c in value]
        except (TypeError, ValueError):
            parts = []
        if len(parts) != 3:
            raise ValueError(
                "A colour must be a `lerax.render.Color`, three ints in [0, 255], "
                f"three floats in [0, 1] or a '#rrggbb' string, got {value!r}."
            )
        if any(isinstance(c, float) for c in parts):
            if not all(0.0 <= c <= 1.0 for c in parts):
                raise ValueError(
                    f"Float colour components must lie in [0, 1], got {value!r} "
                    "(use ints for the 0-255 range)."
                )
            return cls(*(int(round(c * 255)) for c in parts))
        if not all(0 <= c <= 255 for c in parts):
            raise ValueError(
                f"Integer colour components must lie in [0, 255], got {value!r}."
            )
        return cls(*(int(c) for c in parts))

    @property
    def floats(self) -> tuple[float, float, float]:
        """The components as floats in `[0, 1]`."""
        return (self.r / 255, self.g / 255, self.b / 255)

    @classmethod
    def from_hex(cls, text: str) -> "Color":
        """The colour of a ``"#rrggbb"`` string (as in the earlier lerax;
        the same as `Color.of(text)`).

        Raises:
            ValueError: If `text` is not such a string.
        """
        if not isinstance(text, str):
            raise ValueError(
                f"`Color.from_hex` takes a '#rrggbb' string, got {text!r}; use "
                "`Color.of` for other colour-like values."
            )
        return cls.of(text)

    def to_hex(self) -> str:
        """The colour as a ``"#rrggbb"`` string."""
        r, g, b = self.to_rgb255()
        return f"#{r:02x}{g:02x}{b:02x}"

    @classmethod
    def from_rgb255(cls, r: int, g: int, b: int) -> "Color":
        """The colour of three ints in `[0, 255]` (as in the earlier lerax),
        checked as `Color.of` checks them."""
        return cls.of((r, g, b))

    def to_rgb255(self) -> tuple[int, int, int]:
        """The components as a plain tuple of ints in `[0, 255]` (the
        constructor has checked them)."""
        return (int(self.r), int(self.g), int(self.b))

    @classmethod
    def from_tuple(cls, values: Any) -> "Color":
        """The colour of three fractions in `[0, 1]` (the earlier lerax's
        form; ints such as `(1, 0, 0)` are read as fractions here too).

        Raises:
            ValueError: If `values` is not three numbers in `[0, 1]`.
        """
        try:
            parts = tuple(float(_as_number(c)) for c in values)
        except (TypeError, ValueError):
            parts = ()
        if len(parts) != 3:
            raise ValueError(
                f"`Color.from_tuple` takes three floats in [0, 1], got {values!r}."
            )
        return cls.of(parts)

    def to_tuple(self) -> tuple[float, float, float]:
        """The components as floats in `[0, 1]` (the earlier lerax's form;
        the same as `floats`)."""
        return self.floats


def _as_number(c: Any) -> int | float:
    """An integer (Python, or a NumPy or JAX integer scalar or 0-d array)
    stays an int; anything else becomes a float. Booleans are refused."""
    if isinstance(c, bool):
        raise TypeError("booleans are not colour components")
    dtype = getattr(c, "dtype", None)
    if dtype is not None and getattr(c, "ndim", None) == 0:
        kind = np.dtype(dtype).kind
        if kind == "b":
            raise TypeError("booleans are not colour components")
        if kind in "iu":
            return int(c)
    if isinstance(c, numbers.Integral):
        return int(c)
    return float(c)


def _components(parts: tuple[Any, ...]) -> tuple[int, int, int]:
    """The components of `Color(r, g, b)` as Python ints, checked: each an
    integer (Python, or a NumPy or JAX integer scalar or 0-d array, not a
    boolean) in `[0, 255]`."""
    checked = []
    read = _numbers(parts)
    for name, value, number in zip("rgb", parts, read):
        if isinstance(number, float) or number is None:
            hint = (
                f" For 0-1 fractions use `Color.of({parts!r})`."
                if isinstance(number, float)
                and all(isinstance(n, (int, float)) and 0.0 <= n <= 1.0 for n in read)
                else " Use `Color.of(...)` for 0-1 floats or a '#rrggbb' string."
            )
            raise ValueError(
                f"`Color(r, g, b)` takes ints in [0, 255], got {name}={value!r} in "
                f"{parts!r}.{hint}"
            )
        if not 0 <= number <= 255:
            raise ValueError(
                f"`Color(r, g, b)` takes ints in [0, 255], got {name}={value!r} in "
                f"{parts!r}, which is out of range."
            )
        checked.append(number)
    r, g, b = checked
    return r, g, b


def _numbers(parts: tuple[Any, ...]) -> list[int | float | None]:
    """`parts` read by `_as_number` (None where it is not a number)."""
    numbers_ = []
    for value in parts:
        try:
            numbers_.append(_as_number(value))
        except (TypeError, ValueError):
            numbers_.append(None)
    return numbers_


WHITE = Color(255, 255, 255)
BLACK = Color(0, 0, 0)
GRAY = Color(128, 128, 128)
RED = Color(255, 0, 0)
GREEN = Color(0, 255, 0)
BLUE = Color(0, 0, 255)
