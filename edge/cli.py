"""``motcua edge ...``: serve the box, run its worker, set it up."""
import sys
from pathlib import Path

import click

from motcua.cli import with_settings
from office.communes import find_commune
from office.errors import MotcuaError

from .memory import fewer_malloc_arenas


@click.group()
def edge():
    """The commune box."""


@edge.command()
@with_settings("edge")
def serve(settings):
    """Serve the kiosk, lobby display, counter consoles and the API."""
    leave_out_unused_clients(settings)
    fewer_malloc_arenas()
    from motcua.serve import in_child_process, serve as run

    def app():
        from .app import create_app  # in the web worker only (see in_child_process)

        return create_app(settings)

    click.echo(f"Hộp một cửa: http://{settings['host']}:{settings['port']}/  (dữ liệu: {settings['data_dir']})")
    run(app, settings, prepare=lambda: in_child_process(lambda: _prepare(settings)))


def leave_out_unused_clients(settings):
    """huey imports the Redis client and peewee the PostgreSQL driver whenever they are installed
    (the hub needs them): ~10 MB in each of the box's processes, which use neither. Called by the
    long-running box commands only, before anything imports huey or peewee."""
    unused = [] if settings.get("redis_url") else ["redis"]
    if not str(settings.get("database", "")).startswith(("postgresql://", "postgres://")):
        unused.append("psycopg2")
    for name in unused:
        sys.modules.setdefault(name, None)  # `import redis` now fails: the library takes it as absent


def _prepare(settings):
    """The box's tables and secret key, made once before the web workers fork."""
    from motcua.web import secret_key
    from office.db import bind, open_database
    from office.models import MODELS

    secret_key(settings)
    check_database(settings)
    bind(open_database(settings["database"]), MODELS).close()


def check_database(settings):
    """A database that fails its check at start is kept aside and rebuilt from the hub (a damaged
    card); what happened is printed here and shown on the technician console."""
    from provisioning.recover import at_start

    at_start(settings, echo=lambda line: click.echo(line, err=True))


@edge.command()
@with_settings("edge")
def worker(settings):
    """Run the task worker (printing; later replication) until Ctrl-C."""
    leave_out_unused_clients(settings)
    fewer_malloc_arenas()
    from .worker import run_worker

    run_worker(settings)


@edge.command()
@click.option("--demo-data/--no-demo-data", default=False,
              help="Also add the demo officers canbo1-3 with the published demo password (demos and tests only).")
@click.option("--hub-key", default="", help="The hub's public key (base64 text, or a file holding it) to pin.")
@click.option("--restore", is_flag=True, help="Load the commune's data from the hub (a new or replacement box; "
              "register its key at the hub first).")
@with_settings("edge")
def init(settings, demo_data, hub_key, restore):
    """Set this box up for a commune (--commune-code): its key, office, services and counters.

    No officer account is made (a published password on a real box is an open door): add the
    first one with `motcua edge officer add`."""
    from motcua.logs import configure_logging
    from office.db import bind, open_database
    from office.models import MODELS, Office
    from provisioning.identity import ensure_identity, public_path
    from office.seed import DEMO_OFFICERS, DEMO_PASSWORD, seed_office
    from provisioning.apply import seed_standard

    configure_logging(settings["log_level"])
    commune = find_commune(settings["commune_code"])
    if commune is None:
        raise MotcuaError(f"Không có xã/phường mã “{settings['commune_code']}”. Dùng mã GSO 5 chữ số, ví dụ 05518.")
    db = bind(open_database(settings["database"]), MODELS)
    existing = Office.select().first()
    if existing is not None and existing.commune != commune.code:
        raise MotcuaError(f"Hộp này đã được khởi tạo cho {existing.name}.")
    node = ensure_identity(settings["data_dir"], commune.code, settings["hub_url"], _read_key(hub_key))
    if restore:
        _restore(settings)
    elif demo_data:
        seed_office(commune)
    else:
        seed_standard(commune)
    db.close()
    click.echo(f"Đã khởi tạo hộp {node} cho {commune.full_name}, {commune.province_name}.")
    click.echo(f"Khoá công khai (đăng ký tại trung tâm): {public_path(settings['data_dir'])}")
    if demo_data:
        click.echo("Tài khoản cán bộ mẫu: " + ", ".join(u for u, _ in DEMO_OFFICERS) + f" (mật khẩu {DEMO_PASSWORD}; "
                   "chỉ để thử, không dùng cho hộp thật)")
    elif not restore:
        click.echo("Chưa có tài khoản cán bộ: tạo tài khoản đầu tiên bằng "
                   "motcua edge officer add --username TÊN --full-name \"HỌ TÊN\"")


def _restore(settings):
    from provisioning.enrol import restore_from_hub
    from provisioning.identity import ensure_key
    from sync.box import SyncFailed
    from sync.client import HubRefused, HubUnreachable

    try:  # one transaction: a cut leaves the box empty (run it again) or restored
        counts = restore_from_hub(settings, ensure_key(settings["data_dir"]))
    except (HubRefused, HubUnreachable, SyncFailed) as exc:
        raise MotcuaError(f"Không khôi phục được dữ liệu từ trung tâm: {getattr(exc, 'message', exc)}") from exc
    if not counts:
        click.echo("Hộp đã có dữ liệu của xã (đã khôi phục trước đó).")
        return
    click.echo("Đã khôi phục từ trung tâm: " + ", ".join(f"{t} {n}" for t, n in counts.items()))


@edge.command()
@click.option("--check", is_flag=True, help="Only tell whether migrations are pending (exit status 1 if so).")
@with_settings("edge")
def migrate(settings, check):
    """Bring the box's database to this release's schema (the web and worker also do it as they start)."""
    from office.db import database, open_database
    from office.migrations import migrate_command
    from office.models import MODELS

    db = open_database(settings["database"])
    database.initialize(db)
    ok, message = migrate_command(db, MODELS, check)
    db.close()
    click.echo(message)
    if not ok:
        raise SystemExit(1)


@edge.command()
@with_settings("edge")
def sync(settings):
    """Push this box's changes to the hub and pull the hub's now; print a summary."""
    from motcua.logs import configure_logging
    from office.db import bind, open_database
    from office.models import MODELS
    from provisioning.identity import ensure_key
    from sync.box import SyncFailed, status, sync_now

    configure_logging(settings["log_level"])
    bind(open_database(settings["database"]), MODELS)
    try:
        result = sync_now(settings, ensure_key(settings["data_dir"]))
    except SyncFailed as exc:
        raise MotcuaError(str(exc)) from exc
    state = status()
    if result["ok"]:
        click.echo(f"Đã gửi {result['sent']} mục, nhận {result['received']} mục; còn chờ gửi {result['pending']}.")
    else:
        click.echo(f"Đồng bộ thất bại: {result['error']} (còn chờ gửi {state['pending']} mục)", err=True)
        raise SystemExit(1)


@edge.command()
@click.argument("action", type=click.Choice(["add", "password", "disable", "list"]))
@click.option("--username", default="", help="The officer's sign-in name.")
@click.option("--full-name", default="", help="Full name, shown at the counter and on ratings.")
@click.option("--password-file", type=click.File("r", encoding="utf-8"), default=None,
              help="File (or - for stdin) whose first line is the password; asked for when omitted.")
@with_settings("edge")
def officer(settings, action, username, full_name, password_file):
    """Officer accounts of this box: add, password, disable, list."""
    from motcua.logs import configure_logging
    from office import officers
    from office.db import bind, open_database
    from office.models import MODELS, Officer

    configure_logging(settings["log_level"])
    bind(open_database(settings["database"]), MODELS)
    if action == "list":
        for row in Officer.select().order_by(Officer.username):
            click.echo(f"{row.username:<16} {row.full_name:<32} {'hoạt động' if row.active else 'đã khoá'}")
        return
    password = password_file.readline().rstrip("\r\n") if password_file else ""
    if action in ("add", "password") and not password:  # never an option: the process list shows options
        password = click.prompt("Mật khẩu", hide_input=True, confirmation_prompt=True)
    if action == "add":
        officers.add_officer(username, full_name, password)
        click.echo(f"Đã thêm cán bộ {username}.")
    elif action == "password":
        officers.set_password(username, password)
        click.echo(f"Đã đổi mật khẩu của {username}.")
    else:
        officers.deactivate(username)
        click.echo(f"Đã khoá tài khoản {username}.")


def _read_key(value):
    """A key given as text or as the path of a file holding it."""
    if value and Path(value).is_file():
        return Path(value).read_text().strip()
    return value.strip()


def _register_more():
    """Commands kept in their own modules (provisioning, device service)."""
    from .devices_cli import devices
    from .provision_cli import provision_box
    from updates.cli import update

    edge.add_command(provision_box)
    edge.add_command(devices)
    edge.add_command(update)


_register_more()
