"""Every command has --help with an example, and ``python -m scengen`` works."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from scengen.cli import cli

COMMANDS = ["train", "generate", "evaluate", "reduce", "export", "report", "run"]


def test_all_commands_registered():
    assert set(COMMANDS) <= set(cli.commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_example_and_seed(command):
    res = CliRunner().invoke(cli, [command, "--help"])
    assert res.exit_code == 0
    assert "scengen " + command in res.output  # an example line
    if command != "export":  # export is deterministic: no seed
        assert "--seed" in res.output
    # run takes its batch config as the argument, the others as --config
    assert ("CONFIG" if command == "run" else "--config") in res.output


def test_python_dash_m():
    res = subprocess.run(
        [sys.executable, "-m", "scengen", "--version"], capture_output=True, text=True
    )
    assert res.returncode == 0 and "scengen" in res.stdout
