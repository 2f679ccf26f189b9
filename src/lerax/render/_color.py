"""`Color`: an RGB colour that accepts 0-255 integers or 0-1 floats."""

import numbers
from typing import Any, NamedTuple


class Color(NamedTuple):
    """An RGB colour with 8-bit integer components.

    Build one directly from integers in `[0, 255]` (`Color(202, 152, 101)`),
    or convert anything colour-like with `Color.of`: another `Color`, a
    3-sequence of integers in `[0, 255]`, a 3-sequence of floats in `[0, 1]`
    (`(1.0, 0.5, 0.0)`), or a ``"#rrggbb"`` string. Renderers accept any of
    these wherever a colour is asked for.

    Attributes:
        r: Red, 0-255.
        g: Green, 0-255.
        b: Blue, 0-255.
    """

    r: int
    g: int
    b: int

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


def _as_number(c: Any) -> int | float:
    """An integer (Python or NumPy) stays an int; anything else becomes a float."""
    if isinstance(c, bool):
        raise TypeError("booleans are not colour components")
    if isinstance(c, numbers.Integral):
        return int(c)
    return float(c)


WHITE = Color(255, 255, 255)
BLACK = Color(0, 0, 0)
GRAY = Color(128, 128, 128)
RED = Color(255, 0, 0)
GREEN = Color(0, 255, 0)
BLUE = Color(0, 0, 255)
