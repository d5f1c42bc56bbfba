"""Reflex's production server with the page compile in a short-lived child process.

``python -m vdi_taxi.manage serve`` execs this module. It runs ``reflex run --env prod
--single-port`` unchanged but for one step: Reflex compiles the pages for production in the very
process that then stays on as the server's supervisor and forks the workers, so everything the
compile leaves behind (component trees, rendered code, caches) stays resident in the supervisor
and is inherited by every worker for the life of the app, about 45 MB of the idle figure.
Reflex's development server already compiles in a child process; here production does the same.
The supervisor then imports the app only to preload it for the workers, and each worker evaluates
its stateful pages from the compile's marker, as any Reflex backend started without a compile.
"""

from __future__ import annotations

import sys

from reflex import reflex as reflex_cli

RUN_ARGS = ["run", "--env", "prod", "--single-port"]

_compile_in_this_process = reflex_cli._compile_app


def _compile_in_child(*, avoid_dirty_check: bool = True) -> None:
    # avoid_dirty_check=True is Reflex's switch for compiling in a one-off worker process.
    del avoid_dirty_check
    _compile_in_this_process(avoid_dirty_check=True)


def main() -> None:
    reflex_cli._compile_app = _compile_in_child
    # What a re-run of the command line (Reflex's JSON log mode) sees.
    sys.argv = ["reflex", *RUN_ARGS]
    reflex_cli.cli(RUN_ARGS, prog_name="reflex")


if __name__ == "__main__":
    main()
