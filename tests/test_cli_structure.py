"""The CLI's shape: commands are module-level functions (importable, testable alone) and the CLI holds no
SQL (tests/test_cli_startup.py: what starting it imports)."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from typer.testing import CliRunner

import cli
from cli.main import app

CLI_DIR = Path(cli.__file__).parent


def commands(group: typer.Typer):
    for info in group.registered_commands:
        yield info.callback
    for sub in group.registered_groups:
        if sub.typer_instance.registered_callback:
            yield sub.typer_instance.registered_callback.callback
        yield from commands(sub.typer_instance)


def test_commands_are_module_level_functions():
    nested = {f.__name__ for f in commands(app) if "<locals>" in f.__qualname__}
    assert not nested, f"commands defined inside functions: {sorted(nested)}"


def test_a_command_runs_on_an_app_of_its_own():
    from cli.context import AppContext
    from cli.inspect_cmd import show

    def context(ctx: typer.Context) -> None:
        ctx.obj = AppContext(config_path=str(CLI_DIR / "missing.toml"))

    alone = typer.Typer()
    alone.callback()(context)
    alone.command()(show)
    result = CliRunner().invoke(alone, ["show", "X"])
    assert result.exit_code == 2 and "bad config" in result.output  # it ran, and read the context it was given


def test_the_cli_holds_no_sql():
    sql = re.compile(r"\bselect\(|\.exec\(|\bs\.get\(|\.execute\(|\bfunc\.|\btext\(|from sqlalchemy import")
    found = {p.name: sql.findall(p.read_text("utf-8")) for p in CLI_DIR.glob("*.py")}
    assert not {k: v for k, v in found.items() if v}, "queries belong in storage/ (e.g. storage/queries.py)"


def test_a_named_verb_builds_its_module_alone():
    """cli.main.VERBS names what each module registers, so `xxgk VERB` can build that module alone."""
    from typer.main import get_command

    from cli.main import VERBS, build, named_module

    every = set(get_command(app).commands)  # type: ignore[attr-defined]
    for module, verbs in VERBS.items():
        assert set(get_command(build((module,))).commands) == set(verbs), module  # type: ignore[attr-defined]
    assert every == {v for verbs in VERBS.values() for v in verbs}
    for args, module in (
        (["ls"], "inspect_cmd"),
        (["--config", "ls", "show", "X"], "inspect_cmd"),  # `ls` is --config's value
        (["--config=x.toml", "-vv", "-q", "--log-json", "copy-to"], "transfer_cmd"),
        (["--verbose", "files", "get"], "files_cmd"),
        (["--help"], None),
        (["--version", "ls"], None),
        (["-x", "ls"], None),
        (["lss"], None),
        ([], None),
        (["--config"], None),
    ):
        assert named_module(args) == module, args
