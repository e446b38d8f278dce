"""The ``irl-gan`` command line: a thin shell over the library, one module per kind of command."""

from irl_gan.cli import data_commands, eval_commands, train_commands  # noqa: F401 - each registers its commands
from irl_gan.cli.app import cli, main

__all__ = ["cli", "main"]
