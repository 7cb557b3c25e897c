"""Client apps allowed to post Open311 service requests: a name and the hash of its API key (hub-only).

Operators add and switch them off on the hub page ``/open311-clients`` or with
``motcua hub open311-key add NAME``; the key is shown once, only its SHA-256 is kept."""
import hashlib
import secrets

from flask import Blueprint, flash, redirect, render_template, request, url_for
from peewee import BooleanField, CharField, DateTimeField

from office.clock import utcnow
from office.db import BaseModel
from office.errors import Conflict, MotcuaError

from .auth import audited, hub_nav, requires

NAME_MAX = 80


class Open311Client(BaseModel):
    name = CharField(unique=True)
    key_hash = CharField(unique=True)
    active = BooleanField(default=True)
    created_at = DateTimeField()
    last_used_at = DateTimeField(null=True)


OPEN311_MODELS = (Open311Client,)


def _hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


def add_client(name):
    """A new client app; returns (client, key) — the key is never stored nor shown again."""
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_MAX:
        raise MotcuaError(f"Tên ứng dụng không được trống và không dài quá {NAME_MAX} ký tự.", status=400)
    if Open311Client.select().where(Open311Client.name == name).exists():
        raise Conflict(f"Đã có ứng dụng tên “{name}”.")
    key = secrets.token_urlsafe(24)
    client = Open311Client.create(name=name, key_hash=_hash(key), created_at=utcnow())
    return client, key


def client_of_key(key):
    """The active client app holding ``key``, or None."""
    if not key or len(key) > 200:
        return None
    client = Open311Client.get_or_none(Open311Client.key_hash == _hash(key), Open311Client.active == True)  # noqa: E712
    if client is not None:
        Open311Client.update(last_used_at=utcnow()).where(Open311Client.id == client.id).execute()
    return client


bp = Blueprint("open311_clients", __name__, url_prefix="/open311-clients")


@bp.get("")
@requires("hub_data.manage")
def index():
    clients = list(Open311Client.select().order_by(Open311Client.name))
    return render_template("open311_clients.html", clients=clients, nav=hub_nav())


@bp.post("")
@requires("hub_data.manage")
def add():
    name = request.form.get("name", "")
    try:
        with audited("open311.key_add", name):
            client, key = add_client(name)
    except MotcuaError as error:
        clients = list(Open311Client.select().order_by(Open311Client.name))
        return render_template("open311_clients.html", clients=clients, nav=hub_nav(), error=error.message,
                               name=name), error.status
    clients = list(Open311Client.select().order_by(Open311Client.name))
    return render_template("open311_clients.html", clients=clients, nav=hub_nav(), new_key=key, new_name=client.name)


@bp.post("/<int:client_id>/active")
@requires("hub_data.manage")
def toggle(client_id):
    client = Open311Client.get_or_none(Open311Client.id == client_id)
    if client is None:
        raise MotcuaError("Không có ứng dụng này.", status=404)
    with audited("open311.key_active", client.name, "bật" if not client.active else "tắt"):
        client.active = not client.active
        client.save()
    flash(f"Đã {'bật' if client.active else 'tắt'} ứng dụng “{client.name}”.")
    return redirect(url_for("open311_clients.index"))
