"""Which bundles a box takes: a box holding office data only those of the hub key it pinned
(none while it pinned none), a blank box the first one's, which it pins; and a bundle
refused at any check leaves the box exactly as it was."""
from pathlib import Path

import pytest

from motcua.settings import load_settings
from provisioning.apply import provision as provision_here
from provisioning.bundle import BundleRefused, build_bundle, read_bundle
from sync.keys import load_private_key

from .conftest import HubProcess, make_bundle, provision, run, tree

IN_SERVICE = "00127"
BLANK = "00136"
ROWS = "00145"


@pytest.fixture(scope="module")
def sqlite_hub(tmp_path_factory):
    from tests.sync.conftest import running_hub

    yield from running_hub("sqlite", tmp_path_factory.mktemp("hub"))


@pytest.fixture
def stranger(tmp_path):
    """Anyone's hub (never started): its bundles are well signed, by a key no box pinned."""
    other = HubProcess(tmp_path / "stranger")
    yield other
    other.close()


def _box_in_service(data_dir, commune):
    """A box set up with `motcua edge init` and no --hub-key: it holds its office, pins nothing."""
    result = run("edge", "init", "--no-demo-data", "--commune-code", commune, "--data-dir", data_dir,
                 "--log-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (Path(data_dir) / "keys" / "hub.pub").exists()


def _files(root):
    """``tree`` without what only reading the box's database touches (SQLite's -wal/-shm
    files, the folder holding them)."""
    return {k: v for k, v in tree(root).items() if not k.endswith(("-wal", "-shm")) and not Path(root, k).is_dir()}


def _settings(data_dir):
    return load_settings("edge", environ={}, overrides={"data_dir": str(data_dir)})


def test_a_box_in_service_without_a_pinned_key_refuses_a_bundle_signed_by_anyone(stranger, tmp_path):
    box = tmp_path / "box"
    _box_in_service(box, IN_SERVICE)
    evil = tmp_path / "usb" / "evil.motcua"
    make_bundle(stranger, evil, IN_SERVICE, "--technician-password-file", _password_file(tmp_path))
    before = _files(tmp_path)
    with pytest.raises(BundleRefused) as refused:
        provision_here(_settings(box), evil)
    assert refused.value.reason == "unpinned" and "chưa ghim khoá của trung tâm" in refused.value.message
    assert _files(tmp_path) == before  # no hub URL, password or key rewritten
    assert not (box / "motcua.toml").exists() and not (box / "keys" / "hub.pub").exists()


def test_the_usb_watcher_on_a_box_in_service_takes_no_stranger_bundle(stranger, tmp_path):
    box = tmp_path / "box"
    _box_in_service(box, IN_SERVICE)
    stick = tmp_path / "media" / "pi" / "USB"
    stick.mkdir(parents=True)
    (stick / "anh.jpg").write_bytes(b"\xff\xd8")  # a stick with no bundle: nothing to say
    code, out = provision(box, "--scan", "--usb-mount-dirs", tmp_path / "media")
    assert code == 0 and "Không có gói cài đặt mới" in out, out
    make_bundle(stranger, stick / "evil.motcua", IN_SERVICE)
    before = _files(tmp_path)
    code, out = provision(box, "--scan", "--usb-mount-dirs", tmp_path / "media")
    assert code == 2 and "chưa ghim khoá của trung tâm" in out, out
    assert _files(tmp_path) == before


def test_a_blank_box_pins_the_key_of_its_first_bundle_and_then_refuses_other_hubs(sqlite_hub, stranger, tmp_path):
    box = tmp_path / "box"
    first = tmp_path / "first.motcua"
    make_bundle(sqlite_hub, first, BLANK)
    code, out = provision(box, first)
    assert code == 0, out
    assert (box / "keys" / "hub.pub").read_text().strip() == sqlite_hub.key
    foreign = tmp_path / "foreign.motcua"
    make_bundle(stranger, foreign, BLANK)
    before = _files(tmp_path)
    code, out = provision(box, foreign)
    assert code == 2 and "do một trung tâm khác tạo" in out, out
    assert _files(tmp_path) == before


def test_a_bundle_refused_for_its_rows_leaves_the_box_unconfigured(sqlite_hub, tmp_path):
    made = tmp_path / "made.motcua"
    make_bundle(sqlite_hub, made, ROWS, "--wifi-ssid", "UBND", "--wifi-psk", "matkhau-wifi")
    bundle = read_bundle(made)
    manifest = {k: v for k, v in bundle.manifest.items() if k not in ("members", "format", "version")}
    rows = {"tables": {"ticket": {"columns": ["id", "commune"], "rows": [["t-1", ROWS]]}}}  # box-owned: refused
    bad = tmp_path / "usb" / "bad.motcua"
    bad.parent.mkdir()
    bad.write_bytes(build_bundle(load_private_key(sqlite_hub.dir / "keys" / "hub.key"), manifest, bundle.box, rows))
    box = tmp_path / "box"
    before = tree(tmp_path)
    with pytest.raises(BundleRefused, match="không do trung tâm quản lý"):
        provision_here(_settings(box), bad)
    assert tree(tmp_path) == before  # no motcua.toml, network.json, keys/hub.pub: not even the data dir
    assert sqlite_hub.query(f"select consumed_at from enrol_token where commune = '{ROWS}'") == [(None,)]
    code, out = provision(box, made)  # the good bundle of the same token still sets the box up
    assert code == 0 and "trung tâm đã nhận khoá của hộp" in out, out


def test_files_are_written_together_or_not_at_all(tmp_path, monkeypatch):
    from provisioning import local

    (tmp_path / "motcua.toml").write_text("hub_url = \"https://old\"\n")
    real_fsync, calls = local.os.fsync, []

    def failing(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(local.os, "fsync", failing)
    with pytest.raises(OSError):
        local.write_files(tmp_path, {"motcua.toml": "hub_url = \"https://new\"\n", "network.json": "{}\n"})
    assert (tmp_path / "motcua.toml").read_text() == "hub_url = \"https://old\"\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["motcua.toml"]  # no temporary file left


def _password_file(tmp_path):
    path = tmp_path / "technician-password"
    path.write_text("mat-khau-ky-thuat\n")
    return path
