"""``motcua edge devices``: the device service owning the printer and the GPIO lines."""
import click

from motcua.cli import with_settings

from .memory import fewer_malloc_arenas


@click.command("devices")
@with_settings("edge")
def devices(settings):
    """Run the device service (printer, GPIO keypad) on 127.0.0.1:--device-port until Ctrl-C.

    Set device_url (e.g. http://127.0.0.1:8009) for the web app and the worker too: the
    worker then leaves printing and the keypad to this service.
    """
    from devices.service import run_service

    fewer_malloc_arenas()  # it prints and answers on threads of its own, as the worker does
    click.echo(f"Dịch vụ thiết bị: http://127.0.0.1:{settings['device_port']}/status "
               f"(máy in {settings['printer']}, bàn phím {settings['keypad_pins'] or 'không có'})")
    run_service(settings)
