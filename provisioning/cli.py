"""``motcua provision ...``: what district or province IT runs at the hub."""
import click


@click.group()
def provision():
    """Provisioning bundles for new commune boxes."""
