"""The ``curate`` command: a thin click layer over the library.

Exit codes: 0 done, 1 a CurateError (message on stderr, no traceback), 2 usage error, 130
interrupted (Ctrl-C or SIGTERM: one line saying where the run stopped; see
:mod:`curate.interrupts`). An OS error (a full disk, a folder that may not be written) is one
line too; any other exception is one line that says it is a bug, with its traceback only under
``CURATE_DEBUG=1``.
Command modules are imported only when their command runs (or help lists it), so that a
command's start-up pays only for what it uses.
"""

from __future__ import annotations

import gc
import importlib
import os
import traceback

import click

from .. import __version__
from ..errors import CurateError
from ..in_process import PROCESSES_ENV, default_processes
from ..interrupts import EXIT_CODE, install, received
from ..os_errors import os_error_message

# command name -> module of this package that defines it (in its COMMANDS)
COMMAND_MODULES = {
    "convert": "convert", "dedup": "dedup", "export": "export", "filter": "filter",
    "generate": "generate", "judge": "judge",
    "label": "label", "publish": "publish", "run": "run", "sample": "sample",
    "show": "show", "stages": "run", "validate": "run",
}


class CurateGroup(click.Group):
    """Loads commands lazily and turns CurateError into a one-line message and exit code 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMAND_MODULES) | set(self.commands))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMAND_MODULES:
            module = importlib.import_module(f"{__name__}.{COMMAND_MODULES[name]}")
            for command in module.COMMANDS:
                self.add_command(command)
        return self.commands.get(name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CurateError as exc:
            if os.environ.get("CURATE_DEBUG", "") not in ("", "0"):
                click.echo(debug_traceback(exc), err=True)
            raise click.ClickException(str(exc)) from None
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM under main()

            click.echo(interrupted_message(exc, self._resumable(ctx)), err=True)
            raise click.exceptions.Exit(EXIT_CODE) from None
        except Exception as exc:
            if os.environ.get("CURATE_DEBUG") not in (None, "", "0"):
                raise
            message = os_error_message(exc)
            if message is None:
                first = (str(exc).strip().splitlines() or [""])[0][:300]
                message = (f"unexpected {type(exc).__name__}: {first}; this is a bug in "
                           "curate, please report it (CURATE_DEBUG=1 shows the traceback)")
            raise click.ClickException(message) from None

    def _resumable(self, ctx: click.Context) -> bool:
        """Whether the command that ran has --resume."""
        command = self.commands.get(ctx.invoked_subcommand or "")
        return command is not None and any(p.name == "resume" for p in command.params)


def interrupted_message(exc: KeyboardInterrupt, resumable: bool) -> str:
    """One line: which signal, where the run stopped (see Runner._mark_stopped) and the way on."""
    line = f"interrupted ({getattr(exc, 'signal_name', 'SIGINT')})"
    run = getattr(exc, "curate_run", None)
    if run is None:
        return line
    step = run.get("step")
    if step:
        line += f" {step}" if step.startswith("after ") else f" during {step}"
    line += f"; {run['where']}/manifest.json says status interrupted"
    return line + ("; run the same command with --resume to continue" if resumable
                   else "; run the same command again to redo it")


def debug_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and of every error it was raised from or while handling, also
    where the message hid them (``raise ... from None``): what ``CURATE_DEBUG=1`` shows."""
    parts, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        parts.append("".join(traceback.format_exception(type(exc), exc, exc.__traceback__,
                                                        chain=False)))
        exc = exc.__cause__ or exc.__context__
    return "\nwhich was raised while handling:\n\n".join(parts)


@click.group(cls=CurateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="curate")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Turn raw corpora into SFT and preference datasets."""
    if PROCESSES_ENV not in os.environ:  # this program's main module is safe to spawn
        os.environ[PROCESSES_ENV] = str(default_processes())
        ctx.call_on_close(lambda: os.environ.pop(PROCESSES_ENV, None))


# Python looks for reference cycles every 700 container objects allocated beyond those freed;
# each look traverses every young object, such as a list of 40,000 rows being built, again.
# A command allocates millions (rows read as dicts, columns built as lists) and frees nearly
# all by reference counting: at 700 the collector took 0.4-0.5 s of a 40,000-record near
# dedup, at 20,000 under 0.1 s. Cycles are still collected, less often.
GC_YOUNG_THRESHOLD = 20_000


def main() -> None:
    young, *older = gc.get_threshold()
    if 0 < young < GC_YOUNG_THRESHOLD:  # 0: collection turned off, left so
        gc.set_threshold(GC_YOUNG_THRESHOLD, *older)
    install()
    try:
        cli(prog_name="curate")
    except SystemExit as exc:
        if received() is not None and exc.code != EXIT_CODE:  # a signal that came late
            click.echo(f"interrupted ({received()})", err=True)
            raise SystemExit(EXIT_CODE) from None
        raise
