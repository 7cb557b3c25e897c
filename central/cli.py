"""``motcua hub ...``: serve the hub."""
import click

from motcua.cli import with_settings


@click.group()
def hub():
    """The central hub."""


@hub.command()
@with_settings("hub")
def serve(settings):
    """Serve the hub's operator pages and API."""
    from motcua.serve import serve as run

    from .app import create_app

    click.echo(f"Trung tâm: http://{settings['host']}:{settings['port']}/  (dữ liệu: {settings['database']})")
    run(lambda: create_app(settings), settings)
