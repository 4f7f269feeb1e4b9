"""The invariants every scengen command keeps, whatever its input or however it ends.

Shared by ``test_fuzz.py`` (random inputs through click's CliRunner) and ``test_faults.py``
(real processes killed with SIGKILL / SIGINT):

* exit status 0 or 1 (click's own usage errors: 2), never a traceback;
* an error is one line that starts with ``Error: ``;
* no partial output: after a failure ``--out`` does not exist (or is its old self), and no
  temporary ``.NAME.PID.TOKEN.tmp`` entry of a finished writer is left in its folder;
* the input files are unchanged (same bytes).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from scengen._io import is_temp_name

#: exit status of click's own usage errors (a non-integer ``-n``, an unknown option)
USAGE_EXIT = 2


def tree_digest(root: Path, exclude: tuple[Path, ...] = ()) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``root`` (``"<dir>"`` for folders),
    leaving out the trees ``exclude``."""
    root = Path(root)
    skip = {Path(e).resolve() for e in exclude}
    out: dict[str, str] = {}
    if root.is_file():
        return {".": hashlib.sha256(root.read_bytes()).hexdigest()}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if (here / d).resolve() not in skip)
        for d in dirnames:
            out[str((here / d).relative_to(root))] = "<dir>"
        for f in sorted(filenames):
            p = here / f
            if p.resolve() in skip:
                continue
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def temp_entries(folder: Path) -> list[str]:
    """Names in ``folder`` that are scengen temporary / set-aside entries (``.NAME.PID.TOKEN.tmp``
    or ``.old``), plus any other dot-name ending in ``.tmp``."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(
        e
        for e in os.listdir(folder)
        if is_temp_name(e) or (e.startswith(".") and e.endswith((".tmp", ".old")))
    )


def exception_text(result: Any) -> str:
    """The exception of a CliRunner result with its traceback, for assertion messages."""
    import traceback

    if result.exc_info is None:
        return ""
    return "".join(traceback.format_exception(*result.exc_info))


def assert_cli_invariants(
    result: Any,
    out: Path | None = None,
    *,
    out_existed: bool = False,
    usage_ok: bool = False,
) -> None:
    """Assert the invariants on a CliRunner ``result`` of a command that wrote ``out``.

    ``out_existed``: ``out`` existed before the command (a failure then leaves it, which the
    caller compares byte for byte). ``usage_ok``: exit status 2 is allowed, for click's own usage
    errors (a non-integer option value), whose message is click's several-line usage text.
    """
    code = result.exit_code
    allowed = (0, 1, USAGE_EXIT) if usage_ok else (0, 1)
    assert code in allowed, f"exit status {code}\n{result.output}\n{exception_text(result)}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"traceback:\n{exception_text(result)}"
    )
    if code == 1:
        # status lines on stderr may come first; the error itself is the one last line
        lines = result.output.strip().splitlines()
        errors = [line for line in lines if line.startswith("Error: ")]
        assert len(errors) == 1 and lines[-1] == errors[0], (
            f"the error is not one line 'Error: ...':\n{result.output}"
        )
        assert "Traceback" not in result.output, result.output
    elif code == USAGE_EXIT:
        assert "Error: " in result.output, result.output
    if out is not None:
        if code != 0 and not out_existed:
            assert not Path(out).exists(), f"partial output {out} left after a failure"
        left = temp_entries(Path(out).parent)
        assert not left, f"temporary entries left in {Path(out).parent}: {left}"


def listed_export_files(out: Path) -> list[str]:
    """The files ``export.json`` of an export directory says were written (raises when absent)."""
    meta = json.loads((Path(out) / "export.json").read_text(encoding="utf-8"))
    return list(meta["written"])
