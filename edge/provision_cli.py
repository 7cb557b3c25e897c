"""``motcua edge provision``: set this box up from a signed bundle (USB stick or a path)."""
import click


@click.command("provision")
def provision_box():
    """Set this box up from a provisioning bundle."""
    raise click.ClickException("Chưa hỗ trợ.")
