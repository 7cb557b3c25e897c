"""``motcua edge provision``: set this box up from a signed bundle (USB stick or a path)."""
import click

from motcua.cli import with_settings


@click.command("provision")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--scan", is_flag=True, help="Look for a *.motcua bundle in usb_mount_dirs (the USB watcher).")
@click.option("--retry", is_flag=True, help="Retry now what provisioning left pending (enrolment, restore).")
@with_settings("edge")
def provision_box(settings, path, scan, retry):
    """Set this box up from a provisioning bundle made at the hub (motcua provision bundle)."""
    from motcua.logs import configure_logging
    from office.errors import MotcuaError

    configure_logging(settings["log_level"])
    if sum(map(bool, (path, scan, retry))) != 1:
        raise click.UsageError("Cho đúng một trong: PATH, --scan, --retry.")
    if retry:
        return _retry(settings)
    if scan:
        from provisioning.apply import scan as find

        path, refused = find(settings)
        for bad, reason in refused:
            click.echo(f"Bỏ qua {bad}: {reason}", err=True)
        if path is None:
            if refused:
                raise MotcuaError("Không có gói cài đặt dùng được trên USB: " + "; ".join(r for _, r in refused))
            click.echo("Không có gói cài đặt mới (*.motcua) trên USB.")
            return
        click.echo(f"Thấy gói cài đặt {path}")
    _apply(settings, path)


def _apply(settings, path):
    from provisioning.apply import provision
    from provisioning.identity import public_path

    outcome = provision(settings, path)
    bundle = outcome.bundle
    if outcome.already:
        click.echo(f"Gói {bundle.bundle_id} đã được áp dụng cho hộp này trước đây: không làm gì thêm.")
        return
    click.echo(f"Đã cài hộp {outcome.node_id} cho {bundle.commune_label} (mã {bundle.commune}).")
    click.echo(f"  Khoá của hộp:  {public_path(settings['data_dir'])} (tạo trên hộp, không rời hộp)")
    click.echo(f"  Trung tâm:     {outcome.hub_url}")
    if outcome.enrolled:
        click.echo("  Đăng ký:       trung tâm đã nhận khoá của hộp")
        if outcome.replaced:
            click.echo(f"  Thay hộp cũ:   {', '.join(outcome.replaced)} (khoá cũ đã bị thu hồi)")
    else:
        click.echo(f"  Đăng ký:       chưa kết nối được trung tâm ({outcome.pending}); hộp vẫn phục vụ và "
                   "tự đăng ký lại khi có mạng")
    if outcome.restored:
        click.echo("  Dữ liệu:       đã tải từ trung tâm: " + ", ".join(f"{t} {n}" for t, n in outcome.restored.items()))
    elif outcome.restore_pending:
        click.echo(f"  Dữ liệu:       sẽ tải dữ liệu của xã từ trung tâm ({outcome.restore_pending})")
    elif outcome.seeded:
        click.echo("  Dữ liệu:       đã tạo các dịch vụ và quầy chuẩn (chưa có tài khoản cán bộ)")
    if outcome.snapshot_rows:
        click.echo(f"  Kèm theo:      {outcome.snapshot_rows} dòng dữ liệu của trung tâm (ngày nghỉ...)")
    click.echo("Khởi động lại các dịch vụ của hộp để dùng cấu hình mới.")


def _retry(settings):
    from office.db import bind, open_database
    from office.errors import MotcuaError
    from office.models import MODELS
    from provisioning.enrol import enrol_pending
    from provisioning.local import read_state

    if read_state(settings["data_dir"]).get("status") not in ("enrol", "restore"):
        click.echo("Không có việc cài đặt nào đang chờ.")
        return
    db = bind(open_database(settings["database"]), MODELS)
    try:
        result = enrol_pending(settings)
    finally:
        db.close()
    if result is None:
        click.echo("Không có việc cài đặt nào đang chờ.")
    elif result["ok"]:
        restored = result.get("restored")
        click.echo("Đã đăng ký với trung tâm" + (": đã tải " + ", ".join(f"{t} {n}" for t, n in restored.items())
                                                 if restored else "."))
    elif result.get("refused"):
        raise MotcuaError(result["error"])
    else:
        click.echo(f"Vẫn chưa xong: {result['error']}", err=True)
        raise SystemExit(1)
