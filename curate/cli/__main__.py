"""``python -m curate.cli``: the ``curate`` command."""

from . import main

if __name__ == "__main__":  # not when the command modules are listed by importing them
    main()
