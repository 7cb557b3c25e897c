"""``motcua hub open311-key add|list|disable``: the client apps allowed to post Open311 requests."""
import click

from motcua.cli import with_settings

from .cli import _audit, _open, hub


@hub.group("open311-key")
def open311_key():
    """API keys of the apps that post field reports through Open311."""


@open311_key.command("add")
@click.argument("name")
@with_settings("hub")
def add(settings, name):
    """Register an app and print its API key (shown once)."""
    from office.db import database
    from office.errors import MotcuaError

    from .open311_clients import add_client

    _open(settings)
    try:
        with database.atomic():
            client, key = add_client(name)
            _audit("open311.key_add", client.name)
    except MotcuaError as error:
        raise click.ClickException(error.message) from None
    click.echo(key)


@open311_key.command("list")
@with_settings("hub")
def list_keys(settings):
    """The registered apps (never their keys)."""
    from .open311_clients import Open311Client

    _open(settings)
    for client in Open311Client.select().order_by(Open311Client.name):
        click.echo(f"{client.name}\t{'bật' if client.active else 'tắt'}\t{client.last_used_at or '-'}")


@open311_key.command("disable")
@click.argument("name")
@with_settings("hub")
def disable(settings, name):
    """Switch an app's key off."""
    from .open311_clients import Open311Client

    _open(settings)
    changed = Open311Client.update(active=False).where(Open311Client.name == name).execute()
    if not changed:
        raise click.ClickException(f"Không có ứng dụng “{name}”.")
    _audit("open311.key_active", name, "tắt")
    click.echo(f"Đã tắt khoá của “{name}”.")
