"""The ``motcua`` command: ``edge`` (the box), ``hub``, ``demo``.

Every setting is also an option of the commands that use it (``--port``, ``--data-dir``...),
and readable from ``MOTCUA_<NAME>`` or a config file (``--config`` / ``MOTCUA_CONFIG``).
"""
import importlib
import sys

import click

from office.errors import MotcuaError

from .settings import load_settings, settings_for


def with_settings(scope):
    """Add one option per setting of ``scope`` and pass the resolved dict as ``settings``."""

    def decorate(fn):
        def wrapper(config, **kwargs):
            names = {s.name for s in settings_for(scope)}
            overrides = {k: kwargs.pop(k) for k in list(kwargs) if k in names}
            try:
                settings = load_settings(scope, config, overrides)
            except MotcuaError as exc:
                raise click.UsageError(exc.message) from exc
            return fn(settings=settings, **kwargs)

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        for setting in reversed(settings_for(scope)):
            wrapper = click.option(f"--{setting.name.replace('_', '-')}", *setting.aliases, setting.name, default=None,
                                   help=f"{setting.help} [default: {setting.default!r}]")(wrapper)
        return click.option("--config", type=click.Path(dir_okay=False), default=None,
                            help="TOML config file (also MOTCUA_CONFIG).")(wrapper)

    return decorate


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs (or help lists it): the box's
    long-running processes (`edge serve`, `edge worker`) never load the hub's, the demo's or the
    provisioning's modules, which cost them memory for nothing (click documents this pattern)."""

    lazy = {"edge": "edge.cli:edge", "hub": "central.cli:hub", "demo": "motcua.demo:demo",
            "provision": "provisioning.cli:provision"}

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx, name):
        if name not in self.lazy:
            return super().get_command(ctx, name)
        module, attr = self.lazy[name].split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
def cli():
    """motcua: the commune one-stop office box and its hub."""


def main():
    try:
        cli(prog_name="motcua")
    except MotcuaError as exc:
        click.echo(f"Lỗi: {exc.message}", err=True)
        sys.exit(2)
