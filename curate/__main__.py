"""``python -m curate``: the ``curate`` command."""

from .cli import main

if __name__ == "__main__":
    main()
