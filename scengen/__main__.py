"""``python -m scengen``: the command-line interface."""

import sys

if __name__ == "__main__":
    try:
        from scengen.cli import cli

        cli(prog_name="scengen")
    except KeyboardInterrupt:  # Ctrl-C while Python starts or the command ends: no traceback
        print("Error: interrupted", file=sys.stderr)
        sys.exit(130)
