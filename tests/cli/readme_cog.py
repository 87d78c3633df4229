"""What README.md shows of the real commands, written by cog (`make cog`) and checked by the tests: the README's
`--help` texts and example files come from here, so they cannot drift from the product.

In README.md:

    <!-- [[[cog from tests.cli.readme_cog import help_of; help_of("import") ]]] -->
    … generated …
    <!-- [[[end]]] -->
"""
from __future__ import annotations

from pathlib import Path

FILES = Path(__file__).parent / "readme_files"


def _out(text: str) -> None:
    import cog  # available while cog runs

    cog.out(text)


def help_of(command: str) -> None:
    """The `--help` of `wzmon COMMAND` as a fenced block, exactly as a terminal 100 columns wide shows it."""
    from click.testing import CliRunner

    from matrix.cli.root import main

    res = CliRunner().invoke(main, [*command.split(), "--help"], terminal_width=100, prog_name="wzmon")
    assert res.exit_code == 0, res.output
    _out(f"\n```\n$ wzmon {command} --help\n{res.output}```\n")


def file_block(name: str, lang: str = "") -> None:
    """An example file the README's examples use (tests/cli/readme_files/NAME), as a fenced block."""
    _out(f"\n```{lang}\n{(FILES / name).read_text(encoding='utf-8')}```\n")
