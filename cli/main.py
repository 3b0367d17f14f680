"""The `xxgk` command: global options here, verbs in one module per group."""

from __future__ import annotations

import os
import sys
from importlib import import_module

import typer

from cli.context import AppContext, CleanErrors, setup_logging

# The verbs' modules, in the order `--help` lists them, and the top-level names each registers
# (tests/test_cli_structure.py checks both). A command named on the command line loads its module alone:
# `xxgk ls` builds one group, not fourteen (~30 ms of a start-up that must stay under 0.3 s).
VERBS = {
    "crawl_cmd": ("crawl", "demo"),
    "inspect_cmd": ("sources", "ls", "show"),
    "daemon_cmd": ("daemon", "trigger", "runs"),
    "search_cmd": ("search",),
    "versions_cmd": ("history", "diff"),
    "export_cmd": ("export",),
    "archive_cmd": ("verify", "reparse", "stats"),
    "worker_cmd": ("worker", "fleet"),
    "transfer_cmd": ("copy-to",),
    "files_cmd": ("files",),
    "serve_cmd": ("serve",),
    "parse_cmd": ("parse",),
    "watches_cmd": ("watches", "events"),
    "extract_cmd": ("extract",),
}
ROOT_FLAGS = {"-v", "-vv", "-vvv", "--verbose", "-q", "--quiet", "--log-json"}  # the root's options but --config


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as package_version

        try:
            typer.echo(f"xxgk {package_version('xxgk-archive')}")
        except PackageNotFoundError:
            typer.echo("xxgk (version unknown: not installed as a package)")
        raise typer.Exit()


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


def build(modules: tuple[str, ...] = tuple(VERBS)) -> typer.Typer:
    """The `xxgk` command with the verbs of `modules`."""
    app = typer.Typer(
        name="xxgk",
        no_args_is_help=True,
        cls=CleanErrors,
        pretty_exceptions_enable=False,
        help="Archive Chinese government information-disclosure (政府信息公开) portals.",
    )
    app.callback()(main)
    for name in modules:
        import_module(f"cli.{name}").register(app)
    return app


def named_module(args: list[str]) -> str | None:
    """The module of the verb `args` run, when it is plain to see (root options, then a verb's name); None
    for anything else (--help, --version, completion, an unknown verb): every verb is built then."""
    if any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ):
        return None
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] == "--config":
            i += 1
        elif not (args[i] in ROOT_FLAGS or args[i].startswith("--config=")):
            return None
        i += 1
    verb = args[i] if i < len(args) else None
    return next((module for module, verbs in VERBS.items() if verb in verbs), None)


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # `from cli.main import app` (tests): every verb, built once
        app = globals()["app"] = build()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run() -> None:
    # xxgk uses no pydantic plugins; looking for them (at the config's first model) reads the entry points
    # of every installed package: tens of ms on each start. An explicit setting is kept.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    module = named_module(sys.argv[1:])
    build((module,) if module else tuple(VERBS))()


if __name__ == "__main__":
    run()
