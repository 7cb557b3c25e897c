"""The hub's side of provisioning: make a signed bundle for one commune's box."""
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from werkzeug.security import generate_password_hash

from office.clock import utcnow
from office.communes import find_commune
from office.errors import MotcuaError
from sync.capture import replicated_models
from sync.policy import GLOBAL_SCOPE, HUB

from .bundle import SUFFIX, build_bundle, format_time

PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud over the phone


@dataclass
class Made:
    path: Path
    bundle_id: str
    commune: object
    hub_urls: list
    expires_at: object
    restore: bool
    password: str  # the generated technician password (shown once), or "" when given
    snapshot_rows: int
    hub_cert: str = ""  # the certificate file the bundle carries for the box to pin, or ""


def random_password():
    return "-".join("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3))


def hub_urls(settings):
    """The hub URLs a bundle names: ``public_hub_urls``, else this hub's own address, https
    when it serves TLS itself."""
    urls = [u.strip().rstrip("/") for u in settings.get("public_hub_urls", "").split(",") if u.strip()]
    scheme = "https" if settings.get("tls_cert") else "http"
    return urls or [f"{scheme}://{settings['host']}:{settings['port']}"]


def pin_cert(settings):
    """(path, PEM text) of the certificate a bundle carries: ``tls_pin_cert``, else
    ``tls_cert``; ("", "") when the hub has neither."""
    from .bundle import BundleRefused, check_certificate

    path = settings.get("tls_pin_cert") or settings.get("tls_cert") or ""
    if not path:
        return "", ""
    try:
        text = Path(path).read_text("ascii")
    except (OSError, UnicodeError) as exc:
        raise MotcuaError(f"Không đọc được chứng chỉ TLS “{path}” để đưa vào gói: {exc}") from exc
    try:
        return str(Path(path).resolve()), check_certificate(text)
    except BundleRefused as exc:
        raise MotcuaError(f"Tệp “{path}” không phải chứng chỉ TLS (PEM) hợp lệ.") from exc


def hub_rows_snapshot(commune):
    """Rows of hub-owned tables for ``commune`` and for everyone (holidays...): a box without
    a network at its first boot still knows them. The box's first pull brings them again."""
    tables, count = {}, 0
    for table, model in sorted(replicated_models().items()):
        if model.replication != HUB:
            continue
        fields = list(model._meta.sorted_fields)
        query = (model.select(*fields).where(model.commune.in_([commune, GLOBAL_SCOPE])).order_by(model.id).tuples())
        rows = [[_plain(f.db_value(v)) for f, v in zip(fields, row)] for row in query]
        tables[table] = {"columns": [f.column_name for f in fields], "rows": rows}
        count += len(rows)
    return {"tables": tables, "hub_time_ms": int(time.time() * 1000)}, count


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return value


def network_settings(wifi_ssid=None, wifi_psk=None, wifi_country=None, address=None, gateway=None, dns=None):
    network = {k: v for k, v in {"wifi_ssid": wifi_ssid, "wifi_psk": wifi_psk, "wifi_country": wifi_country,
                                 "address": address, "gateway": gateway, "dns": dns}.items() if v}
    if wifi_psk and not wifi_ssid:
        raise MotcuaError("Có mật khẩu Wi-Fi nhưng thiếu tên mạng (--wifi-ssid).")
    if wifi_psk and not 8 <= len(wifi_psk) <= 63:
        raise MotcuaError("Mật khẩu Wi-Fi (WPA) phải dài 8 đến 63 ký tự.")
    if gateway and not address:
        raise MotcuaError("Có cổng mạng (--gateway) nhưng thiếu địa chỉ tĩnh (--address).")
    return network


def make_bundle(settings, hub_key, commune_code, out=None, technician_password=None, hours=None, network=None,
                snapshot=True, now=None):
    """Issue a token and write a signed bundle for ``commune_code`` (the hub's database bound)."""
    from central.enrol import commune_has_data, issue_token

    commune = find_commune(commune_code)
    if commune is None:
        raise MotcuaError(f"Không có xã/phường mã “{commune_code}”. Dùng mã GSO 5 chữ số, ví dụ 05518.")
    hours = settings["enrol_token_hours"] if hours is None else hours
    if not 0 < hours <= 24 * 90:
        raise MotcuaError("Thời hạn của gói phải từ trên 0 đến 2160 giờ (90 ngày).")
    now = (now or utcnow()).replace(microsecond=0)
    generated = "" if technician_password else random_password()
    password = technician_password or generated
    if len(password) < 8:
        raise MotcuaError("Mật khẩu kỹ thuật phải dài ít nhất 8 ký tự.")
    out = Path(out or f"motcua-{commune.code}-{now:%Y%m%d-%H%M}{SUFFIX}")
    if out.is_dir():
        raise MotcuaError(f"{out} là một thư mục: hãy cho tên tệp, ví dụ {out / ('motcua-' + commune.code + SUFFIX)}.")
    urls = hub_urls(settings)
    cert_path, cert = pin_cert(settings)
    restore = commune_has_data(commune.code)
    rows, count = hub_rows_snapshot(commune.code) if snapshot else (None, 0)
    bundle_id, token, expires = issue_token(commune.code, hours, now=now)
    manifest = {
        "bundle_id": bundle_id, "created_at": format_time(now), "expires_at": format_time(expires),
        "commune": {"code": commune.code, "name": commune.name, "full_name": commune.full_name,
                    "province": commune.province_name},
        "hub": {"urls": urls}, "restore": restore,
    }
    box = {"enrol_token": token, "technician_password_hash": generate_password_hash(password),
           "network": network or {}}
    data = build_bundle(hub_key, manifest, box, rows, hub_cert=cert)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds a token: owner only
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, out)
    return Made(out.resolve(), bundle_id, commune, urls, expires, restore, generated, count, cert_path)
