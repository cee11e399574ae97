"""`python -m nbruns serve ...`: the same as the `nbruns` command."""

from ._served._cli import main

main()
