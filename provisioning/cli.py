"""``motcua provision ...``: what district or province IT runs at the hub."""
import click

from motcua.cli import with_settings


@click.group()
def provision():
    """Provisioning bundles for new commune boxes."""


@provision.command("bundle")
@click.option("--commune", "commune_code", required=True, help="GSO code of the commune the box will serve.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="The bundle file to write (default motcua-<commune>-<time>.motcua here).")
@click.option("--technician-password-file", type=click.File("r", encoding="utf-8"), default=None,
              help="File (or - for stdin) whose first line is the technician console's password.")
@click.option("--ask-technician-password", is_flag=True,
              help="Prompt for the technician console's password (default: a random one, printed once).")
@click.option("--hours", type=float, default=None, help="Hours the bundle stays valid [default: enrol_token_hours].")
@click.option("--wifi-ssid", default=None, help="Wi-Fi network the box joins.")
@click.option("--wifi-psk", default=None, help="Wi-Fi password (WPA, 8-63 characters).")
@click.option("--wifi-country", default=None, help="Wi-Fi regulatory country (e.g. VN).")
@click.option("--address", default=None, help="Static address of the box, CIDR (e.g. 192.168.1.50/24); default DHCP.")
@click.option("--gateway", default=None, help="Gateway with --address.")
@click.option("--dns", default=None, help="DNS servers, comma-separated.")
@click.option("--no-snapshot", is_flag=True, help="Leave out the hub-owned rows (holidays) for an offline first boot.")
@with_settings("hub")
def bundle(settings, commune_code, out, technician_password_file, ask_technician_password, hours, wifi_ssid, wifi_psk, wifi_country, address,
           gateway, dns, no_snapshot):
    """Make a signed bundle that sets up a commune's box from a USB stick (new or replacement box)."""
    from central.cli import _audit, _open
    from provisioning.identity import ensure_key

    from .bundle import SUFFIX, local_time
    from .make import make_bundle, network_settings

    network = network_settings(wifi_ssid, wifi_psk, wifi_country, address, gateway, dns)
    technician_password = _technician_password(technician_password_file, ask_technician_password)
    _open(settings)
    made = make_bundle(settings, ensure_key(settings["data_dir"], "hub"), commune_code, out, technician_password,
                       hours, network, snapshot=not no_snapshot)
    c = made.commune
    _audit("bundle.make", made.bundle_id, f"xã {c.code}, hết hạn {local_time(made.expires_at)}"
           + (", thay hộp đang dùng" if made.restore else ""))
    click.echo(f"Đã tạo gói cài đặt cho {c.full_name}, {c.province_name} (mã {c.code}).")
    click.echo(f"  Tệp:               {made.path}")
    click.echo(f"  Mã gói:            {made.bundle_id}")
    click.echo(f"  Trung tâm:         {', '.join(made.hub_urls)}")
    click.echo(f"  Hết hạn:           {local_time(made.expires_at)} (giờ Việt Nam); chỉ dùng được một lần")
    if made.restore:
        click.echo("  Dữ liệu:           trung tâm đã có dữ liệu của xã: hộp mới sẽ tải về và thay hộp đang dùng "
                   "(khoá của hộp cũ bị thu hồi khi hộp mới đăng ký)")
    else:
        click.echo("  Dữ liệu:           xã chưa có dữ liệu trên trung tâm: hộp tạo các dịch vụ và quầy chuẩn")
    if made.hub_cert:
        click.echo(f"  Chứng chỉ TLS:     {made.hub_cert} (hộp ghim chứng chỉ này, không tin chứng chỉ nào khác)")
    if network.get("wifi_ssid"):
        click.echo(f"  Wi-Fi:             {network['wifi_ssid']}")
    if made.password:
        click.echo(f"  Mật khẩu kỹ thuật: {made.password}   (chỉ hiện MỘT lần: hãy ghi lại và giữ kín)")
    click.echo("Chép tệp vào USB (một gói mỗi USB), cắm vào hộp; hoặc chạy trên hộp: motcua edge provision TỆP")
    if not made.path.name.endswith(SUFFIX):
        click.echo(f"Lưu ý: hộp chỉ tự tìm các tệp *{SUFFIX} trên USB.", err=True)
    if any(u.startswith("http://") for u in made.hub_urls):
        click.echo("Lưu ý: gói dùng địa chỉ http:// nên hộp nói chuyện với trung tâm không mã hoá. Hãy cho trung tâm "
                   "phục vụ HTTPS (tls_cert, tls_key) hoặc đặt sau proxy HTTPS; xem docs/tls-and-first-box.md.",
                   err=True)
    elif not made.hub_cert:
        click.echo("Lưu ý: gói không kèm chứng chỉ TLS của trung tâm (tls_pin_cert/tls_cert chưa đặt): hộp sẽ tin "
                   "các tổ chức chứng thực công cộng của hệ thống.", err=True)
    if not settings["public_hub_urls"] and any(u.startswith(("http://0.0.0.0", "http://127.", "http://localhost"))
                                               for u in made.hub_urls):
        click.echo(f"Lưu ý: địa chỉ trung tâm {made.hub_urls[0]} không dùng được từ hộp ở xã; "
                   "đặt --public-hub-urls (hoặc MOTCUA_PUBLIC_HUB_URLS).", err=True)


def _technician_password(from_file, ask):
    """The technician password from a file or a prompt (never from the command line: other
    users of the machine read it in the process list and the shell history); None: random."""
    if from_file and ask:
        raise click.UsageError("Cho một trong --technician-password-file, --ask-technician-password.")
    if from_file:
        return from_file.readline().rstrip("\r\n")
    if ask:
        return click.prompt("Mật khẩu kỹ thuật của hộp", hide_input=True, confirmation_prompt=True)
    return None
