"""The command line's shape: every command reachable, its help line true, loaded lazily."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import click
import pytest

from incidents_cli.cli import COMMANDS, SECTIONS, cli

from .conftest import run_cli


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_help_line_is_the_first_line_of_the_commands_own_help(name: str) -> None:
    module, attribute, line = COMMANDS[name]
    command = getattr(importlib.import_module(f"incidents_cli.cli.{module}"), attribute)
    assert isinstance(command, click.Command)
    assert command.name == name
    assert inspect.cleandoc(command.help or "").splitlines()[0] == line
    assert module in SECTIONS


def test_every_command_defined_in_the_package_is_listed() -> None:
    defined = set()
    for module in SECTIONS:
        loaded = importlib.import_module(f"incidents_cli.cli.{module}")
        commands = [c for c in vars(loaded).values() if isinstance(c, click.Command)]
        nested = {
            id(sub)
            for group in commands
            if isinstance(group, click.Group)
            for sub in group.commands.values()
        }
        defined |= {(module, c.callback.__name__) for c in commands if id(c) not in nested}  # type: ignore[union-attr]
    assert defined == {(module, attribute) for module, attribute, _ in COMMANDS.values()}


def test_help_lists_every_command_under_its_heading() -> None:
    result = run_cli("--help")
    assert result.code == 0
    for title in SECTIONS.values():
        assert f"\n{title}:\n" in result.out
    for name, (_, _, line) in COMMANDS.items():
        assert f"  {name} " in result.out and line in result.out


def _modules_after(*args: str) -> set[str]:
    script = (
        "import sys\n"
        "from incidents_cli.cli import cli\n"
        f"try:\n    cli.main({list(args)!r}, standalone_mode=False)\n"
        "except SystemExit:\n    pass\n"
        "names = [m for m in sys.modules if m.startswith('incidents_cli')]\n"
        "print('\\n'.join(names), file=sys.stderr)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "Usage:" in run.stdout
    loaded = set(run.stderr.split())
    assert "incidents_cli.cli" in loaded  # the listing ran
    return loaded


def test_help_imports_no_command_module() -> None:
    loaded = _modules_after("--help")
    assert not {m for m in loaded if m.startswith("incidents_cli.cli.")} - {
        "incidents_cli.cli.shared"
    }
    assert "incidents_cli.usecases.transitions" not in loaded


def test_a_command_imports_only_its_own_module() -> None:
    loaded = _modules_after("ack", "--help")
    assert "incidents_cli.cli.lifecycle" in loaded
    others = {f"incidents_cli.cli.{m}" for m in SECTIONS} - {"incidents_cli.cli.lifecycle"}
    assert not loaded & others


def test_an_unknown_command_is_one_line_and_exit_2() -> None:
    result = run_cli("acknowledge")
    assert result.code == 2
    assert result.err.count("\n") == 1 and "No such command 'acknowledge'" in result.err
    assert cli.get_command(click.Context(cli), "acknowledge") is None


def test_ctrl_c_while_the_command_line_is_still_importing_is_one_line_and_exit_130() -> None:
    # SIGINT's KeyboardInterrupt raised where the console script imports the command line:
    # before the error handler of cli.main exists, so only incidents_cli.__main__ can catch it
    script = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'click':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "from incidents_cli.__main__ import main\n"
        "main()\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, "--version"], capture_output=True, text=True, check=False
    )
    assert (run.returncode, run.stdout, run.stderr) == (130, "", "incidents: interrupted\n")


def test_before_its_ctrl_c_handler_the_console_script_imports_only_built_in_modules() -> None:
    """Ctrl-C before incidents_cli.__main__'s handler prints Python's traceback, so the
    imports before it (the package, then __main__ itself) must be as short as can be:
    built-in modules only. (`typing`, imported there for one annotation, took 3 to 8 ms of
    the console script's start, and Ctrl-C in them printed a traceback.)"""
    probe = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import incidents_cli.__main__\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    imported = set(run.stdout.split())
    ours = {"incidents_cli", "incidents_cli.__main__"}
    assert ours <= imported
    others = {name for name in imported - ours if not name.startswith("__editable__")}
    assert others <= {"__future__", *sys.builtin_module_names}, sorted(others)


def test_output_its_reader_closed_is_exit_141_and_nothing_on_stderr() -> None:
    """`incidents ... | head`: when the reader has gone, the command stops as git does
    (141, 128 + SIGPIPE), not with click's 1, which here means findings."""
    import os

    from .console_helpers import SCRIPT, person_env

    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command writes
    try:
        run = subprocess.run(
            [str(SCRIPT), "completion", "bash"],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=person_env(),
            check=False,
            timeout=60,
        )
    finally:
        os.close(write)
    assert (run.returncode, run.stderr) == (141, "")


@pytest.mark.parametrize(
    "args", [["--help"], ["--version"], ["ack", "--help"], ["list"]], ids=" ".join
)
def test_help_and_version_to_a_closed_pipe_end_as_every_command_does(
    repo: Path, args: list[str]
) -> None:
    """`incidents --help | head -1`: the group's help and --version are printed while the
    options are read, before the group's invoke (where a closed pipe is turned into 141):
    they too end quietly with 141, not click's 1."""
    import os

    from .console_helpers import SCRIPT, person_env

    read, write = os.pipe()
    os.close(read)  # the reader is gone before the command writes
    try:
        run = subprocess.run(
            [str(SCRIPT), "-C", str(repo), *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env=person_env(),
            check=False,
            timeout=60,
        )
    finally:
        os.close(write)
    assert (run.returncode, run.stderr) == (141, "")
