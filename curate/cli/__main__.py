"""``python -m curate.cli``: the ``curate`` command."""

from . import main

main()
