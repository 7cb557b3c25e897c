"""``motcua hub ...``: serve the hub and manage its boxes."""
from pathlib import Path

import click

from motcua.cli import with_settings


@click.group()
def hub():
    """The central hub."""


@hub.command()
@with_settings("hub")
def serve(settings):
    """Serve the hub's operator pages, its API and the replication endpoints."""
    from motcua.serve import serve as run

    from .app import create_app

    scheme = "https" if settings["tls_cert"] else "http"
    click.echo(f"Trung tâm: {scheme}://{settings['host']}:{settings['port']}/  (dữ liệu: {settings['database']})")
    run(lambda: create_app(settings), settings, prepare=lambda: _prepare(settings))


def _prepare(settings):
    """What the hub's data dir needs once (tables, node row, key, secret files), made before
    the web workers fork: several workers making them at once on a fresh data dir collide."""
    from motcua.web import secret_key

    from .auth import operator_password

    db = _open(settings)
    secret_key(settings)
    operator_password(settings)
    db.close()


@hub.command()
@with_settings("hub")
def worker(settings):
    """Run the hub's task worker: fleet watch, reminders, citizen notifications and their sending."""
    from .tasks import run_worker

    run_worker(settings)


@hub.command()
@click.option("--check", is_flag=True, help="Only tell whether migrations are pending (exit status 1 if so).")
@with_settings("hub")
def migrate(settings, check):
    """Bring the hub's database to this release's schema: run it once, with the hub's web and
    worker stopped, before starting them on a new release."""
    from office.db import HUB_SQLITE, database, open_database
    from office.migrations import migrate_command

    from .app import HUB_MODELS
    from .audit import make_append_only

    db = open_database(settings["database"], **HUB_SQLITE)
    database.initialize(db)
    ok, message = migrate_command(db, HUB_MODELS, check)
    if not check:
        make_append_only(db)
    db.close()
    click.echo(message)
    if not ok:
        raise SystemExit(1)


def _open(settings):
    from motcua.logs import configure_logging
    from provisioning.identity import ensure_hub_identity

    from .app import open_hub_database

    configure_logging(settings["log_level"])
    from office.synonyms import ensure_default_synonyms

    db = open_hub_database(settings)
    ensure_hub_identity(settings["data_dir"])
    ensure_default_synonyms()
    from office.reports import ensure_default_categories

    ensure_default_categories()
    return db


def _audit(action, target, detail=""):
    from .accounts_cli import _actor
    from .audit import record

    record(_actor(), "", action, target, detail)


@hub.command("register-box")
@click.option("--commune", required=True, help="GSO code of the box's commune.")
@click.option("--public-key", "public_key", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The box's public key file (keys/box.pub on the box).")
@click.option("--replaces", default=None, help="Node id of the box this one replaces (its key is revoked).")
@with_settings("hub")
def register_box(settings, commune, public_key, replaces):
    """Allow a box's key to replicate the data of a commune."""
    from .fleet import register_box as register

    _open(settings)
    box = register(commune, Path(public_key).read_text(), replaces=replaces)
    _audit("box.register", box.node_id, f"xã {box.commune}" + (f", thay {replaces}" if replaces else ""))
    click.echo(f"Đã đăng ký hộp {box.node_id} cho xã/phường {box.commune}.")


@hub.command("revoke-box")
@click.argument("node_id")
@click.option("--reason", default="thu hồi", help="Why (kept in the alert log).")
@with_settings("hub")
def revoke_box(settings, node_id, reason):
    """Refuse everything a box sends from now on."""
    from .fleet import revoke_box as revoke

    _open(settings)
    revoke(node_id, reason)
    _audit("box.revoke", node_id, reason)
    click.echo(f"Đã thu hồi khoá của hộp {node_id}.")


@hub.command("release-box")
@click.argument("node_id")
@with_settings("hub")
def release_box(settings, node_id):
    """Take a quarantined box back in."""
    from .fleet import release_box as release

    _open(settings)
    release(node_id)
    _audit("box.release", node_id)
    click.echo(f"Hộp {node_id} hoạt động trở lại.")


@hub.command("boxes")
@with_settings("hub")
def boxes(settings):
    """List the boxes, their commune and replication state."""
    from .fleet import box_rows

    _open(settings)
    for row in box_rows():
        click.echo(f"{row['node_id']}  {row['commune']} {row['commune_name']:<28} {row['status']:<11} "
                   f"seq {row['acked_seq']:<7} lần cuối {row['last_seen_at'] or '-'}")


@hub.command("enrolments")
@with_settings("hub")
def enrolments(settings):
    """List the provisioning bundles made here and every enrolment attempt of a box."""
    from provisioning.bundle import local_time

    from .enrol import enrolment_rows, token_rows

    _open(settings)
    click.echo("Gói cài đặt:")
    for row in token_rows():
        click.echo(f"  {row['bundle_id']}  xã {row['commune']}  tạo {local_time(row['created_at'])}  "
                   f"hết hạn {local_time(row['expires_at'])}  {row['state']}")
    click.echo("Nhật ký đăng ký:")
    for row in enrolment_rows():
        replaced = f"  thay {row['replaced']}" if row["replaced"] else ""
        click.echo(f"  {local_time(row['at'])}  xã {row['commune'] or '-'}  gói {row['bundle_id'] or '-'}  "
                   f"{row['node_id'] or '-'}  {row['outcome']}{replaced}  {row['message']}".rstrip())


@hub.command("key")
@with_settings("hub")
def key(settings):
    """Print the hub's public key (boxes pin it)."""
    from sync.keys import public_text

    from provisioning.identity import ensure_key

    click.echo(public_text(ensure_key(settings["data_dir"], "hub")))


from . import catalog_cli  # noqa: E402,F401  (registers `hub import-catalog`)
from . import accounts_cli  # noqa: E402,F401  (registers `hub account ...`)
from . import releases_cli  # noqa: E402,F401  (registers `hub release ...`)
from . import open311_cli  # noqa: E402,F401  (registers `hub open311-key ...`)
