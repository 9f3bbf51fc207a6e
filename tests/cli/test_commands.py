import importlib
import pkgutil

import curate.cli as cli_package
from curate.cli import COMMAND_MODULES, cli


def test_every_command_module_is_listed():
    """A command module that defines COMMANDS but is missing from COMMAND_MODULES would never
    be reachable from the command line."""
    found = {}
    for info in pkgutil.iter_modules(cli_package.__path__):
        module = importlib.import_module(f"curate.cli.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            found[command.name] = info.name
    assert found == COMMAND_MODULES


def test_help_lists_every_command():
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.split("Commands:")[1].strip().splitlines()]
    assert listed == sorted(COMMAND_MODULES)
