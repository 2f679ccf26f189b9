"""The command line's one exception type: a message for the user, no traceback."""

import difflib
from collections.abc import Iterable


class CLIError(Exception):
    """A problem the user can fix; `main` prints it and exits with `code`.

    Attributes:
        code: The process exit status (2: bad input, 1: the run failed).
    """

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def unknown(kind: str, name: str, valid: Iterable[str]) -> CLIError:
    """A `CLIError` for an unknown `name`, listing the valid ones and the
    closest match."""
    valid = list(valid)
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    if not close:
        lowered = {v.lower(): v for v in valid}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return CLIError(f"Unknown {kind} {name!r}.{hint} Valid: {', '.join(valid)}.")
