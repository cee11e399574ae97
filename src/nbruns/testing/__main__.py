"""`python -m nbruns.testing sanitize-path`: print the path of nbruns's nbval sanitize rules.

pytest --nbval notebooks/ --nbval-sanitize-with "$(python -m nbruns.testing sanitize-path)"
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ._sanitize import SANITIZE_PATH

__all__ = ["main"]

_USAGE = "usage: python -m nbruns.testing sanitize-path"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args != ["sanitize-path"]:
        sys.stderr.write(
            f"{_USAGE}\n  sanitize-path  print the path of the nbval sanitize rules nbruns "
            "ships (for --nbval-sanitize-with)\n"
        )
        return 2
    sys.stdout.write(SANITIZE_PATH + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
