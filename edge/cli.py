"""``motcua edge ...``: serve the box, run its worker, set it up."""
from pathlib import Path

import click

from motcua.cli import with_settings
from office.communes import find_commune
from office.errors import MotcuaError


@click.group()
def edge():
    """The commune box."""


@edge.command()
@with_settings("edge")
def serve(settings):
    """Serve the kiosk, lobby display, counter consoles and the API."""
    from motcua.serve import serve as run

    from .app import create_app

    click.echo(f"Hộp một cửa: http://{settings['host']}:{settings['port']}/  (dữ liệu: {settings['data_dir']})")
    run(lambda: create_app(settings), settings)


@edge.command()
@with_settings("edge")
def worker(settings):
    """Run the task worker (printing; later replication) until Ctrl-C."""
    from .worker import run_worker

    run_worker(settings)


@edge.command()
@click.option("--demo-data/--no-demo-data", default=True, help="Add the usual services, counters and officers.")
@click.option("--hub-key", default="", help="The hub's public key (base64 text, or a file holding it) to pin.")
@with_settings("edge")
def init(settings, demo_data, hub_key):
    """Set this box up for a commune (--commune-code): its office, services, counters and officers."""
    from motcua.web import configure_logging
    from office.db import bind, open_database
    from office.models import MODELS, Office
    from provisioning.identity import PUBLIC_FILE, ensure_identity
    from office.seed import DEMO_OFFICERS, DEMO_PASSWORD, ensure_office, seed_office

    configure_logging(settings["log_level"])
    commune = find_commune(settings["commune_code"])
    if commune is None:
        raise MotcuaError(f"Không có xã/phường mã “{settings['commune_code']}”. Dùng mã GSO 5 chữ số, ví dụ 05518.")
    db = bind(open_database(settings["database"]), MODELS)
    existing = Office.select().first()
    if existing is not None and existing.commune != commune.code:
        raise MotcuaError(f"Hộp này đã được khởi tạo cho {existing.name}.")
    node = ensure_identity(settings["data_dir"], commune.code, settings["hub_url"], _read_key(hub_key))
    if demo_data:
        seed_office(commune)
    else:
        ensure_office(commune)
    db.close()
    click.echo(f"Đã khởi tạo hộp {node} cho {commune.full_name}, {commune.province_name}.")
    click.echo(f"Khoá công khai (đăng ký tại trung tâm): {Path(settings['data_dir']) / PUBLIC_FILE}")
    if demo_data:
        click.echo("Tài khoản cán bộ: " + ", ".join(u for u, _ in DEMO_OFFICERS) + f" (mật khẩu {DEMO_PASSWORD})")


def _read_key(value):
    """A key given as text or as the path of a file holding it."""
    if value and Path(value).is_file():
        return Path(value).read_text().strip()
    return value.strip()
