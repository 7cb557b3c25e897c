"""``motcua edge update run|switch|status``: the box's software updates from the shell."""
import json

import click

from motcua.cli import with_settings


@click.group()
def update():
    """Signed software updates of this box (the worker runs them by itself every minute)."""


def _open(settings):
    from motcua.logs import configure_logging
    from office.db import bind, open_database
    from office.models import MODELS

    configure_logging(settings["log_level"])
    bind(open_database(settings["database"]), MODELS)


@update.command("run")
@with_settings("edge")
def run(settings):
    """Ask the hub now, download and install what it offers, switch if in the quiet time."""
    from provisioning.identity import ensure_key

    from .box import update_step

    _open(settings)
    click.echo(update_step(settings, ensure_key(settings["data_dir"])) or "Không có gì mới.")


@update.command("switch")
@click.argument("version")
@with_settings("edge")
def switch(settings, version):
    """Switch to an installed release now and guard it (rolls back when it is not healthy)."""
    from motcua.logs import configure_logging

    from .switch import switch as run_switch

    configure_logging(settings["log_level"])
    ok = run_switch(settings, version)
    click.echo(f"Đã chuyển sang bản {version}." if ok else f"Bản {version} không khỏe: đã quay lại bản trước.")
    if not ok:
        raise SystemExit(1)


@update.command("status")
@with_settings("edge")
def status(settings):
    """The version running and where the last rollout stands (JSON)."""
    from .state import report

    click.echo(json.dumps(report(settings), ensure_ascii=False, indent=1))
