"""``python -m vaelib`` (and the ``vaelib`` console script): see vaelib.cli."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
