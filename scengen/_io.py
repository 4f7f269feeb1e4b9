"""Safe, atomic file and directory writes, shared by every stage.

Every output is written to a temporary name in the same directory and renamed into place, so an
interrupted run never leaves a half-written file that looks complete. Temporary names carry the
writer's process id (``.NAME.PID.TOKEN.tmp``); the next writer in the same folder removes those
whose process is gone, and puts back a directory that a killed writer had moved aside
(``.NAME.PID.TOKEN.old``) before it could put the new one in its place.

A command writes only what it owns (:func:`check_output_dir`): a new directory, an empty one, or
with ``overwrite`` a scengen output of the same kind that holds nothing scengen did not write and
is not (and does not contain) the command's own input.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from scengen.errors import ScengenError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()

#: temporary or set-aside names written by this module: ``.NAME.PID.TOKEN.tmp|old``
_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.(?P<ext>tmp|old)$")


def _temp_name(name: str, ext: str = "tmp") -> str:
    return f".{name}.{os.getpid()}.{secrets.token_hex(4)}.{ext}"


def is_temp_name(name: str) -> bool:
    """True for the temporary / set-aside names this module writes."""
    return _TEMP_RE.match(name) is not None


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or cannot tell: keep its files
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def clean_stale(folder: str | os.PathLike) -> list[str]:
    """Remove the temporary files and folders of writers that are gone, in ``folder``.

    A set-aside directory (``.NAME.PID.TOKEN.old``) whose writer died between moving the old
    output aside and putting the new one in place is moved back to ``NAME`` when ``NAME`` does not
    exist; otherwise it is removed. Returns the names handled.
    """
    d = Path(folder)
    done: list[str] = []
    try:
        entries = list(os.scandir(d))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return done
    for e in entries:
        m = _TEMP_RE.match(e.name)
        if m is None or _pid_alive(int(m["pid"])):
            continue
        path = d / e.name
        target = d / m["name"]
        if m["ext"] == "old" and not target.exists():
            with contextlib.suppress(OSError):
                os.replace(path, target)
                done.append(e.name)
                continue
        _remove(path)
        done.append(e.name)
    return done


def _tmp_path(path: Path) -> Path:
    tmp = path.parent / _temp_name(path.name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 & ~_UMASK)
    os.close(fd)
    return tmp


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    On an exception the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path.parent)
    tmp = _tmp_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (Path,)):
        return str(obj)
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")


def to_json(obj: Any) -> str:
    """Serialise ``obj`` to indented JSON, converting numpy scalars/arrays and dates."""
    return json.dumps(obj, indent=2, default=_json_default) + "\n"


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text(path, to_json(obj))


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_csv(path: str | os.PathLike, df, **kwargs) -> None:
    """Write a DataFrame to CSV atomically (``index=False`` unless given)."""
    kwargs.setdefault("index", False)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, **kwargs)


# ---------------------------------------------------------------------- what a command owns

#: the kinds of output directory and the entries each may hold (all written by scengen)
_EVALUATION_FILES = {"evaluation.csv", "evaluation.json", "decision.csv", "decision.json"}
OWNED: dict[str, set[str]] = {
    "run": {
        "config.yaml",
        "metadata.json",
        "split.csv",
        "profiles.npz",
        "metrics.csv",
        "checkpoint.pt",
        # written into a run directory by `scengen run`
        "stages.json",
        "error.txt",
        "report.html",
        "scenarios",
        "reduced",
        "export",
        *_EVALUATION_FILES,
    },
    "scenarios": {
        "scenarios.csv",
        "probabilities.csv",
        "metadata.json",
        "scenarios.npz",
        "assignment.csv",
        "reduction.json",
        *_EVALUATION_FILES,
    },
    "export": {"export.json"},  # + the files that export.json lists as written
    "evaluation": set(_EVALUATION_FILES),
}
KIND_NAMES = {
    "run": "a run directory (scengen train)",
    "scenarios": "a scenario directory (scengen generate / reduce)",
    "export": "an export directory (scengen export)",
    "evaluation": "an evaluation directory (scengen evaluate)",
}


def _json_or_none(path: Path) -> Any:
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


def output_kind(path: str | os.PathLike) -> str | None:
    """The kind of scengen output ``path`` is, from its metadata, or ``None``.

    ``"run"`` (``metadata.json`` of a training, or a ``checkpoint.pt``), ``"scenarios"``
    (``metadata.json`` of a generated, reduced or measured set), ``"export"`` (``export.json``)
    or ``"evaluation"`` (``evaluation.json`` alone).
    """
    d = Path(path)
    if not d.is_dir():
        return None
    meta = _json_or_none(d / "metadata.json") if (d / "metadata.json").is_file() else None
    if isinstance(meta, dict):
        if meta.get("scengen_output") in OWNED:
            return str(meta["scengen_output"])
        if "status" in meta and "data" in meta:
            return "run"
        if meta.get("kind") in ("generated", "reduced", "measured"):
            return "scenarios"
    if (d / "checkpoint.pt").is_file() or (d / "stages.json").is_file():  # train / scengen run
        return "run"
    exp = _json_or_none(d / "export.json") if (d / "export.json").is_file() else None
    if isinstance(exp, dict) and "format" in exp:
        return "export"
    ev = _json_or_none(d / "evaluation.json") if (d / "evaluation.json").is_file() else None
    if isinstance(ev, dict) and "table" in ev:
        return "evaluation"
    return None


def owned_entries(path: str | os.PathLike, kind: str) -> set[str]:
    """Names in directory ``path`` that a scengen output of ``kind`` writes."""
    d = Path(path)
    owned = set(OWNED[kind])
    if kind == "export":
        exp = _json_or_none(d / "export.json")
        written = exp.get("written") if isinstance(exp, dict) else None
        if isinstance(written, list):
            owned |= {str(w) for w in written}
        else:  # written before export.json listed its files: the layouts' file types
            owned |= {e.name for e in d.iterdir() if e.suffix in (".csv", ".txt") and e.is_file()}
    return owned


def foreign_entries(path: str | os.PathLike, kind: str) -> list[str]:
    """Entries of directory ``path`` that a scengen output of ``kind`` does not write."""
    d = Path(path)
    owned = owned_entries(d, kind)
    return sorted(e.name for e in d.iterdir() if e.name not in owned and not is_temp_name(e.name))


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_output_dir(
    out: str | os.PathLike,
    kind: str,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
    what: str = "--out",
) -> bool:
    """Check that a command may write the directory ``out``; return whether it exists.

    Allowed: a path that does not exist, an empty directory, or (with ``overwrite``) a scengen
    output of the same ``kind`` that holds only what scengen writes. Never the current directory
    or one of its parents, and never a directory that is, or contains, one of ``inputs``.

    Raises
    ------
    ScengenError
        Naming ``what`` (the option), the path and what to do instead.
    """
    p = Path(out)
    shown = str(p)
    if p.name in ("", ".", "..") or _inside(Path.cwd().resolve(), p.resolve()):
        raise ScengenError(
            f"{what} {shown!r} is the current directory or one of its parents; give the name "
            "of a new directory for the output"
        )
    target = p.resolve()
    for inp in inputs:
        if inp is not None and _inside(Path(inp).resolve(), target):
            raise ScengenError(
                f"{what} {shown!r} is or contains the input {str(inp)!r}; choose another {what} "
                "(scengen never writes over its own input)"
            )
    if not p.exists() and not p.is_symlink():
        return False
    if not p.is_dir():
        raise ScengenError(f"{what} {shown!r} exists and is not a directory; choose another {what}")
    entries = [e for e in os.listdir(p) if not is_temp_name(e)]
    if not entries:
        return True
    found = output_kind(p)
    label = KIND_NAMES[kind]
    if not overwrite:
        extra = f" {KIND_NAMES[found]}" if found else " files"
        hint = (
            "pass --overwrite to replace it, or choose another " + what
            if found == kind
            else f"choose another {what} (it is not {label})"
        )
        raise ScengenError(f"{what} {shown!r} already exists and holds{extra}; {hint}")
    if found != kind:
        raise ScengenError(
            f"{what} {shown!r} is not {label} (no scengen metadata of that kind), so "
            "--overwrite does not apply to it; choose another " + what
        )
    foreign = foreign_entries(p, kind)
    if foreign:
        raise ScengenError(
            f"{what} {shown!r} holds {foreign[0]!r}, which scengen did not write; move it away "
            f"or choose another {what} (--overwrite never deletes files scengen did not write)"
        )
    return True


@contextlib.contextmanager
def staging_dir(
    out: str | os.PathLike,
    kind: str,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | os.PathLike] = (),
    what: str = "--out",
) -> Iterator[Path]:
    """Build an output directory under a temporary name and move it to ``out`` on success.

    :func:`check_output_dir` decides whether ``out`` may be written. On an exception the staging
    directory is deleted and ``out`` is left untouched, so a failed or interrupted command never
    leaves a directory that looks complete. An existing ``out`` is moved aside only once the new
    one is complete, then removed; if the writer is killed in between, the next writer in the
    same folder moves it back (:func:`clean_stale`).
    """
    out = Path(out)
    check_output_dir(out, kind, overwrite=overwrite, inputs=inputs, what=what)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out.parent)
    stage = out.parent / _temp_name(out.name)
    stage.mkdir(mode=0o777 & ~_UMASK)
    try:
        yield stage
        # the check again: another process may have written out in the meantime
        exists = check_output_dir(out, kind, overwrite=overwrite, inputs=inputs, what=what)
        if exists:
            old = out.parent / _temp_name(out.name, "old")
            os.replace(out, old)
            os.replace(stage, out)
            _remove(old)
        else:
            os.replace(stage, out)
    except BaseException:
        _remove(stage)
        raise


def check_add_files(
    folder: str | os.PathLike,
    names: Iterable[str],
    kinds: Iterable[str],
    *,
    overwrite: bool = False,
    what: str = "--out",
) -> None:
    """Check that files ``names`` may be written into the existing directory ``folder``.

    New files may be added to any directory. A file of ``names`` that exists already is replaced
    only with ``overwrite``, and only when ``folder`` is a scengen output of one of ``kinds``
    (whose files they are); never in a folder scengen did not write.
    """
    d = Path(folder)
    if not d.is_dir():
        raise ScengenError(f"{what} {str(d)!r} exists and is not a directory")
    existing = [n for n in names if (d / n).exists()]
    if not existing:
        return
    kinds = list(kinds)
    if output_kind(d) not in kinds:
        raise ScengenError(
            f"{str(d / existing[0])!r} exists and {str(d)!r} is not a scengen output, so it was "
            f"not written by scengen; move it away or choose another {what}"
        )
    if not overwrite:
        raise ScengenError(
            f"{str(d / existing[0])!r} exists; pass --overwrite to replace it, or choose another "
            f"{what}"
        )


#: the mark of an HTML page written by scengen (in its <head>)
HTML_GENERATOR = '<meta name="generator" content="scengen">'


def check_output_file(
    path: str | os.PathLike, *, overwrite: bool = False, what: str = "--out"
) -> None:
    """Check that the HTML page ``path`` may be written: new, or (with ``overwrite``) a page that
    scengen wrote (it carries :data:`HTML_GENERATOR`, or the footer of older versions)."""
    p = Path(path)
    if not p.exists():
        return
    if p.is_dir():
        raise ScengenError(f"{what} {str(p)!r} is a directory; give the HTML file to write")
    try:
        with open(p, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError as e:
        raise ScengenError(f"{what} {str(p)!r} exists and cannot be read: {e.strerror}") from None
    if HTML_GENERATOR not in text and "<footer>Written by scengen" not in text:
        raise ScengenError(
            f"{what} {str(p)!r} exists and was not written by scengen; choose another {what}"
        )
    if not overwrite:
        raise ScengenError(
            f"{what} {str(p)!r} exists; pass --overwrite to replace it, or choose another {what}"
        )
