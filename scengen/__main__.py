"""``python -m scengen``."""

from scengen.cli import cli

if __name__ == "__main__":
    cli(prog_name="scengen")
