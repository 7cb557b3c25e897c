"""A box's own config file in its data dir, and the commands' help."""
import pytest
from click.testing import CliRunner

from motcua.cli import cli
from motcua.settings import load_settings
from provisioning.cli import provision
from provisioning.local import read_config, write_config


def test_the_data_dir_config_is_read_below_every_other_source(tmp_path):
    write_config(tmp_path, {"commune_code": "05518", "hub_url": "http://hub.example:8000", "priority_ratio": 4})
    assert (tmp_path / "motcua.toml").stat().st_mode & 0o777 == 0o600
    settings = load_settings("edge", environ={}, overrides={"data_dir": str(tmp_path)})
    assert (settings["commune_code"], settings["hub_url"], settings["priority_ratio"]) == \
        ("05518", "http://hub.example:8000", 4)
    settings = load_settings("edge", environ={"MOTCUA_HUB_URL": "http://other:1", "MOTCUA_DATA_DIR": str(tmp_path)})
    assert (settings["commune_code"], settings["hub_url"]) == ("05518", "http://other:1")
    explicit = tmp_path / "explicit.toml"
    explicit.write_text('priority_ratio = 2\n')
    settings = load_settings("edge", config_file=str(explicit), environ={}, overrides={"data_dir": str(tmp_path)})
    assert settings["priority_ratio"] == 2 and settings["commune_code"] == "05518"
    assert "commune_code" not in load_settings("hub", environ={}, overrides={"data_dir": str(tmp_path)})


def test_writing_the_config_keeps_other_keys_and_quotes_values(tmp_path):
    (tmp_path / "motcua.toml").write_text('printer = "preview"\n[edge]\nport = 8080\n')
    write_config(tmp_path, {"hub_url": 'http://x/"quoted"\\path', "commune_code": "Phường"})
    assert read_config(tmp_path) == {"printer": "preview", "port": 8080, "hub_url": 'http://x/"quoted"\\path',
                                     "commune_code": "Phường"}


@pytest.mark.parametrize("args", [["provision", "bundle"], ["edge", "provision"], ["hub", "enrolments"]])
def test_help(args):
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_edge_provision_wants_one_source(tmp_path):
    result = CliRunner().invoke(cli, ["edge", "provision", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0 and "PATH, --scan, --retry" in result.output
