"""The `xxgk` command: global options here, verbs in one module per group."""

from __future__ import annotations

import os

import typer

from cli import (
    archive_cmd,
    crawl_cmd,
    daemon_cmd,
    export_cmd,
    extract_cmd,
    files_cmd,
    inspect_cmd,
    parse_cmd,
    search_cmd,
    serve_cmd,
    transfer_cmd,
    versions_cmd,
    watches_cmd,
    worker_cmd,
)
from cli.context import AppContext, CleanErrors, setup_logging

app = typer.Typer(
    name="xxgk",
    no_args_is_help=True,
    cls=CleanErrors,
    pretty_exceptions_enable=False,
    help="Archive Chinese government information-disclosure (政府信息公开) portals.",
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as package_version

        try:
            typer.echo(f"xxgk {package_version('xxgk-archive')}")
        except PackageNotFoundError:
            typer.echo("xxgk (version unknown: not installed as a package)")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    config: str | None = typer.Option(
        None,
        "--config",
        envvar="XXGK_CONFIG",
        metavar="PATH",
        help="TOML config (default ./xxgk.toml, else the bundled catalog).",
    ),
    verbose: int = typer.Option(0, "--verbose", "-v", count=True, help="More log output (-vv for debug)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors on stderr."),
    log_json: bool = typer.Option(False, "--log-json", help="Logs as JSON lines (stderr and log file)."),
    _: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    setup_logging(-1 if quiet else verbose, log_json)
    ctx.obj = AppContext(config_path=config, verbosity=-1 if quiet else verbose, log_json=log_json)


crawl_cmd.register(app)
inspect_cmd.register(app)
daemon_cmd.register(app)
search_cmd.register(app)
versions_cmd.register(app)
export_cmd.register(app)
archive_cmd.register(app)
worker_cmd.register(app)
transfer_cmd.register(app)
files_cmd.register(app)
serve_cmd.register(app)
parse_cmd.register(app)
watches_cmd.register(app)
extract_cmd.register(app)


def run() -> None:
    # xxgk uses no pydantic plugins; looking for them (at the config's first model) reads the entry points
    # of every installed package: tens of ms on each start. An explicit setting is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    app()


if __name__ == "__main__":
    run()
