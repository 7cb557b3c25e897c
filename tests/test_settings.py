"""Settings are data: each one documented in the README, read from file, env and options."""
import re
from pathlib import Path

import pytest

from motcua.settings import SETTINGS, load_settings
from office.errors import MotcuaError

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_in_the_readme(setting):
    assert re.search(rf"`{setting.name}`", README.read_text("utf-8")), f"document `{setting.name}` in README.md"


def test_precedence_file_then_env_then_options(tmp_path):
    config = tmp_path / "motcua.toml"
    config.write_text('port = 9000\nvoice_reading = "south"\n[edge]\npriority_ratio = 3\n[hub]\nport = 9100\n')
    edge = load_settings("edge", config_file=str(config), environ={"MOTCUA_PORT": "9001"}, overrides={"data_dir": str(tmp_path)})
    assert (edge["port"], edge["voice_reading"], edge["priority_ratio"]) == (9001, "south", 3)
    assert edge["database"] == str(tmp_path / "edge.db")
    hub = load_settings("hub", config_file=str(config), environ={}, overrides={"port": "9200"})
    assert hub["port"] == 9200 and "priority_ratio" not in hub


def test_hub_defaults_to_port_8000():
    assert load_settings("hub", environ={})["port"] == 8000


def test_bad_values_are_reported_clearly(tmp_path):
    with pytest.raises(MotcuaError, match="không hợp lệ cho port"):
        load_settings("edge", environ={"MOTCUA_PORT": "tám"})
    config = tmp_path / "bad.toml"
    config.write_text("colour = 'blue'\n")
    with pytest.raises(MotcuaError, match="không biết: colour"):
        load_settings("edge", config_file=str(config), environ={})
