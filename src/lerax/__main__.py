"""`python -m lerax`: the `lerax` command line."""

import sys

from lerax.cli import main

if __name__ == "__main__":
    sys.exit(main())
