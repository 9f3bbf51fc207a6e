"""The launcher: busy ports, `serve` on a running stack, credentials kept 0600."""

import re
import stat

import pytest
from click.testing import CliRunner

from curate.argilla.server import LocalStack, StackError, free_port
from curate.cli import cli


def test_busy_port_is_reported(argilla_stack, tmp_path):
    other = LocalStack(tmp_path / "other", port=argilla_stack.stack.port)
    with pytest.raises(StackError, match=rf"port {argilla_stack.stack.port} on 127.0.0.1 \(API\) "
                                         r"is busy"):
        other.start()
    assert not (tmp_path / "other" / "venv").exists()  # it stopped before setting anything up


def test_credentials_are_private(argilla_stack):
    for name in ("api_key", "password"):
        mode = (argilla_stack.stack.home / name).stat().st_mode
        assert stat.S_IMODE(mode) == 0o600
    assert argilla_stack.api_key not in repr(argilla_stack.stack.info())


def test_serve_prints_the_key_once_and_reuses_the_running_stack(argilla_stack):
    stack = argilla_stack.stack
    result = CliRunner().invoke(cli, ["label", "serve", "--home", str(stack.home),
                                      "--port", str(stack.port)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert f"ARGILLA_API_URL={argilla_stack.api_url}" in lines
    assert f"ARGILLA_API_KEY={argilla_stack.api_key}" in lines
    assert result.output.count(argilla_stack.api_key) == 1
    assert "already running" in result.output
    for name in ("server", "noida", "worker"):
        assert stack.log(name).is_file()
        assert argilla_stack.api_key not in stack.log(name).read_text()
    assert argilla_stack.api_key not in stack.log("migrate").read_text()


def test_failed_start_names_the_log_and_leaves_nothing_running(argilla_stack, tmp_path):
    home = tmp_path / "broken"
    (home / "data").mkdir(parents=True)
    (home / "data" / "argilla.db").write_text("this is not an SQLite database\n" * 100)
    stack = LocalStack(home, venv=argilla_stack.stack.venv, port=free_port(),
                       es_port=free_port(), redis_port=free_port())
    log = re.escape(str(home / "logs" / "migrate.log"))
    with pytest.raises(StackError, match=rf"`argilla_server database migrate` failed; see {log}") \
            as err:
        stack.start()
    assert stack.credentials()[0] not in str(err.value)
    assert not stack.running() and not list(stack.pids.glob("*.pid"))
