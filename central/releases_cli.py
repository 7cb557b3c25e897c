"""``motcua hub release publish|target|wave|list``: software releases for the boxes, audited."""
import click

from motcua.cli import with_settings

from .accounts_cli import _actor
from .cli import _open, hub


@hub.group()
def release():
    """Signed software releases for the boxes, by commune or by wave."""


@release.command("publish")
@click.option("--wheels", "wheels", required=True, type=click.Path(exists=True, file_okay=False),
              help="Directory of the wheels: motcua-<version>-*.whl and the dependencies' wheels that changed.")
@click.option("--version", "version", required=True, help="The motcua version of the release.")
@click.option("--communes", default="", help="GSO codes of the communes receiving it, comma-separated.")
@click.option("--wave", type=int, default=None, help="Every commune of waves 1..N receives it (see `release wave`).")
@with_settings("hub")
def publish(settings, wheels, version, communes, wave):
    """Sign a release with the hub's key and offer it to communes or waves."""
    from provisioning.identity import ensure_key

    from .audit import change
    from .releases import publish as run

    _open(settings)
    with change(_actor(), "", "release.publish", version, f"xã {communes or '-'}, đợt {wave or '-'}"):
        made = run(settings["data_dir"], ensure_key(settings["data_dir"], "hub"), wheels, version, communes, wave,
                   actor=_actor())
    click.echo(f"Đã phát hành bản {made.version} ({made.manifest.count('sha256')} tệp) cho "
               f"xã {made.communes or '-'}, đợt {made.wave or '-'}.")


@release.command("target")
@click.option("--version", "version", required=True)
@click.option("--communes", default="", help="More communes, comma-separated.")
@click.option("--wave", type=int, default=None, help="Widen to waves 1..N.")
@with_settings("hub")
def target(settings, version, communes, wave):
    """Offer a published release to more communes or waves."""
    from .audit import change
    from .releases import extend

    _open(settings)
    with change(_actor(), "", "release.target", version, f"xã {communes or '-'}, đợt {wave or '-'}"):
        made = extend(version, communes, wave)
    click.echo(f"Bản {made.version}: xã {made.communes or '-'}, đợt {made.wave or '-'}.")


@release.command("wave")
@click.argument("wave", type=int)
@click.option("--communes", required=True, help="GSO codes, comma-separated.")
@with_settings("hub")
def wave(settings, wave, communes):
    """Put communes in rollout wave N (1: the pilot)."""
    from .audit import change
    from .releases import set_wave

    _open(settings)
    with change(_actor(), "", "release.wave", str(wave), communes):
        codes = set_wave(wave, communes)
    click.echo(f"Đợt {wave}: {', '.join(codes)}.")


@release.command("list")
@with_settings("hub")
def list_releases(settings):
    """Each release and where it stands on every box it is meant for."""
    from .releases import rollout_rows

    _open(settings)
    for row in rollout_rows(limit=50):
        counts = ", ".join(f"{k} {v}" for k, v in sorted(row["counts"].items())) or "chưa có hộp"
        click.echo(f"{row['version']}  xã {row['communes'] or '-'}  đợt {row['wave'] or '-'}  {counts}")
        for box in row["boxes"]:
            click.echo(f"    {box['node_id']}  {box['commune']}  {box['state']}  {box['reason']}".rstrip())
