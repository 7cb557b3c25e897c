"""``motcua hub import-catalog FILE``: load a procedure catalog (JSON, CSV or XLSX) at the hub.

The procedures are hub-owned rows for every box: the boxes take them in at their next pull.
``--sample N`` first writes office.catalog_sample's N procedures to FILE (the demo uses it).
"""
import json
from pathlib import Path

import click

from motcua.cli import with_settings

from .cli import _open, hub


@hub.command("import-catalog")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--sample", type=click.IntRange(1, 20_000), default=None,
              help="First write this many sample procedures to PATH (demo data).")
@with_settings("hub")
def import_catalog(settings, path, sample):
    """Create or update procedures from a catalog file; refused rows are listed with their reasons."""
    from office.catalog import import_file

    path = Path(path)
    if sample:
        from office.catalog_sample import sample as make_sample

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(make_sample(sample), ensure_ascii=False, indent=1), encoding="utf-8")
    if not path.is_file():
        raise click.BadParameter(f"không có tệp {path}", param_hint="PATH")
    _open(settings)
    try:
        report = import_file(path.name, path.read_bytes())
    except ValueError as exc:
        raise click.ClickException(f"Không đọc được tệp {path.name}: {exc}") from None
    click.echo(f"{path.name}: {report.created} thủ tục mới, {report.updated} cập nhật, {report.unchanged} không đổi, "
               f"{len(report.rejected)} dòng bị từ chối.")
    for row, code, reasons in report.rejected:
        click.echo(f"  dòng {row} ({code or 'không có mã'}): {'; '.join(reasons)}", err=True)


@hub.command("import-synonyms")
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
@with_settings("hub")
def import_synonyms(settings, path):
    """Create or update the kiosk search's synonyms from a .json or .csv file (phrase, means)."""
    from office.synonyms import import_file

    from .cli import _audit

    path = Path(path)
    _open(settings)
    try:
        report = import_file(path.name, path.read_bytes())
    except (UnicodeDecodeError, ValueError) as exc:
        raise click.ClickException(f"Không đọc được tệp {path.name}: {exc}") from None
    _audit("catalog.synonym.import", path.name, f"created {report.created}, updated {report.updated}, "
           f"unchanged {report.unchanged}, rejected {len(report.rejected)}")
    click.echo(f"{path.name}: {report.created} từ đồng nghĩa mới, {report.updated} cập nhật, "
               f"{report.unchanged} không đổi, {len(report.rejected)} dòng bị từ chối.")
    for row, phrase, reasons in report.rejected:
        click.echo(f"  dòng {row} ({phrase or 'trống'}): {'; '.join(reasons)}", err=True)
