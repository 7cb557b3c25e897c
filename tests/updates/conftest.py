"""A real hub process, a box set up for it, release wheels built in the test."""
import pytest

from tests.sync.conftest import Box, HubProcess, motcua, running_hub  # noqa: F401  (shared hub helpers)


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request, tmp_path):
    yield from running_hub(request.param, tmp_path / "hub")


@pytest.fixture
def sqlite_hub(tmp_path):
    yield from running_hub("sqlite", tmp_path / "hub")


def publish(hub, wheels, version, *target):
    return motcua("hub", "release", "publish", "--wheels", wheels, "--version", version, *target, *hub.args).stdout
