"""``motcua edge devices``: the device service owning the printer and the GPIO lines."""
import click


@click.command("devices")
def devices():
    """Run the device service (printer, GPIO keypad) on 127.0.0.1."""
    raise click.ClickException("Chưa hỗ trợ.")
