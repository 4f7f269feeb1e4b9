"""The click group and the options and error handling shared by every command.

The CLI is a thin layer: it parses options, calls library functions, writes files and maps
:class:`~scengen.errors.ScengenError` (and missing files) to a one-line ``Error: ...`` with exit
status 1. Library code never prints.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from scengen import __version__
from scengen.config import SEED_MAX, check_seed, read_config_file
from scengen.errors import ScengenError

#: exceptions that are the user's input, shown as one line without a traceback
USER_ERRORS = (
    ScengenError,
    FileNotFoundError,
    FileExistsError,
    NotADirectoryError,
    PermissionError,
)


def _one_line(e: BaseException) -> str:
    msg = (
        str(e)
        if not isinstance(e, (FileNotFoundError, PermissionError)) or not e.filename
        else (f"{e.strerror or e}: {e.filename!r}" if e.strerror else str(e))
    )
    return " ".join(msg.split()) or type(e).__name__


class ScengenGroup(click.Group):
    """A click group that turns user errors into ``Error: ...`` and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as e:
            raise click.ClickException(_one_line(e)) from None
        except KeyboardInterrupt as e:
            msg = str(e) or "interrupted; completed outputs are kept, partial ones removed"
            click.echo(f"Error: {msg}", err=True)
            sys.exit(130)


#: how much the CLI says on stderr: 0 = errors and warnings only (-q), 1 = status and progress
#: (default), 2 = more detail (-v)
VERBOSITY = {"level": 1}


@click.group(cls=ScengenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scengen")
@click.option(
    "-q", "--quiet", is_flag=True, help="Only errors, warnings and results (no status, progress)."
)
@click.option("-v", "--verbose", is_flag=True, help="More detail on stderr.")
def cli(quiet: bool, verbose: bool) -> None:
    """scengen: renewable scenarios from measured wind / PV output.

    \b
    train     learn daily profiles with a WGAN-GP
    generate  sample synthetic scenarios from a trained model
    evaluate  score scenarios against held-out measured days
    reduce    Wasserstein k-medoids to K weighted scenarios
    export    write scenarios for optimisation tools
    report    self-contained HTML report
    run       the whole pipeline for a batch of jobs

    \b
    Exit status: 0 done, 1 bad input or a failed job (one line 'Error: ...'), 2 a command-line
    usage error, 3 a quality check failed (evaluate / run --strict), 130 interrupted.
    """
    if quiet and verbose:
        raise ScengenError("give at most one of -q/--quiet and -v/--verbose")
    VERBOSITY["level"] = 0 if quiet else (2 if verbose else 1)


def _seed(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    return None if value is None else check_seed(value, "--seed")


def seed_option(default: int | None = 0) -> Callable:
    """``--seed``: the single seed of an entry point, recorded with every output."""
    return click.option(
        "--seed",
        type=int,
        default=default,
        show_default=True,
        callback=_seed,
        help=f"Random seed 0-{SEED_MAX} (recorded in the outputs; same seed, same result).",
    )


def config_seed(config: dict[str, Any]) -> int | None:
    """The top-level ``seed`` of a config mapping (``None`` when absent), checked."""
    if "seed" not in config:
        return None
    return check_seed(config["seed"], "config seed")


def overwrite_option(what: str) -> Callable:
    """``--overwrite``: replace the command's own earlier output (never anything else)."""
    return click.option(
        "--overwrite",
        is_flag=True,
        help=f"Replace an existing {what} written by scengen (never a folder scengen did not "
        "write, nor the command's input).",
    )


def config_option(f: Callable) -> Callable:
    """``--config FILE.yaml``: settings from YAML; explicit flags override them."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="YAML config (see configs/); command-line flags override its values.",
    )(f)


def read_config(config_path: Path | None) -> dict[str, Any]:
    """The YAML mapping of ``--config`` (empty without one).

    A relative ``data.path`` is taken relative to the config file's folder.
    """
    return {} if config_path is None else read_config_file(config_path)


def echo_err(msg: str, level: int = 1) -> None:
    """Message on stderr (keeps stdout for results), shown when the verbosity is at least
    ``level`` (0: warnings, always shown; 1: status, hidden by -q; 2: detail, shown by -v)."""
    if VERBOSITY["level"] >= level:
        click.echo(msg, err=True)


def show_progress() -> bool:
    """Whether progress bars and lines are shown (not under -q)."""
    return VERBOSITY["level"] >= 1


@contextlib.contextmanager
def progress_bar(label: str, after_s: float = 2.0) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawing a click progress bar on stderr once the step
    has taken ``after_s`` (hidden by -q; quiet steps stay silent)."""
    if not show_progress():
        yield lambda done, total: None
        return
    t0 = time.perf_counter()
    state: dict[str, Any] = {"bar": None, "done": 0}

    def update(done: int, total: int) -> None:
        if state["bar"] is None:
            if time.perf_counter() - t0 < after_s and done < total:
                return
            if done >= total:
                return
            state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr)
            state["bar"].__enter__()
        state["bar"].update(done - state["done"])
        state["done"] = done

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)


@contextlib.contextmanager
def busy(what: str, after_s: float = 2.0) -> Iterator[None]:
    """Show ``what ... 12 s`` on stderr while a step whose length is not known runs.

    On a terminal the line appears once the step has taken ``after_s`` and is redrawn every
    second; elsewhere (logs) one line is printed when it has taken ``after_s``. Hidden by -q.
    """
    if not show_progress():
        yield
        return
    tty = sys.stderr.isatty()
    done = threading.Event()
    t0 = time.perf_counter()

    def tick() -> None:
        if done.wait(after_s):
            return
        while True:
            line = f"{what} ... {time.perf_counter() - t0:.0f} s"
            click.echo("\r" + line if tty else line, err=True, nl=not tty)
            if not tty or done.wait(1.0):
                return

    th = threading.Thread(target=tick, daemon=True)
    th.start()
    try:
        yield
    finally:
        done.set()
        th.join()
        if tty and time.perf_counter() - t0 > after_s:
            click.echo("", err=True)


def with_section(config: dict[str, Any], name: str) -> dict[str, Any]:
    """One section of a config mapping (``{}`` when absent)."""
    sec = config.get(name)
    sec = {} if sec is None else sec
    if not isinstance(sec, dict):
        raise ScengenError(f"config section {name!r} must be a mapping, got {sec!r}")
    return dict(sec)
