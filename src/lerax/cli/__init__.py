"""The `lerax` command line: `lerax train`, `evaluate`, `record`, `list`,
`benchmark` (also `python -m lerax`)."""

from ._config import build_config as build_config
from ._errors import CLIError as CLIError
from ._main import main as main
from ._main import parser as parser
