"""The ``curate`` command: a thin click layer over the library.

Exit codes: 0 done, 1 a CurateError (message on stderr, no traceback), 2 usage error.
"""

from __future__ import annotations

import click

from .. import __version__
from ..errors import CurateError


class CurateGroup(click.Group):
    """Turns CurateError into a one-line message and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CurateError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=CurateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="curate")
def cli() -> None:
    """Turn raw corpora into SFT and preference datasets."""


def _register() -> None:
    """Every module of this package that defines COMMANDS adds them (one module per group)."""
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="curate")
