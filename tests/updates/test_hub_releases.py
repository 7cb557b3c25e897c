"""The hub's side of releases, on SQLite and PostgreSQL: who is offered what, signed hellos,
resumable verified downloads, refusals, catching up after being offline, the audit log."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from office.errors import MotcuaError
from sync.keys import load_public_text
from tests.sync.conftest import Box
from updates import state
from updates.box import consider, hello, update_step
from updates.download import download_release
from updates.manifest import ManifestRefused, sign_manifest, verify_manifest
from updates.window import in_window, parse_window

from .conftest import motcua, publish
from .wheels import build_wheel


def closed_window(tz="Asia/Ho_Chi_Minh"):
    """A one-minute window two hours from now: never open while the test runs."""
    later = datetime.now(ZoneInfo(tz)) + timedelta(hours=2)
    return f"{later:%H:%M}-{later + timedelta(minutes=1):%H:%M}"


def make_box(hub, root, commune="05518"):
    box = Box(root, commune, hub)
    hub.register(box)
    box.settings.update(update_window=closed_window())
    return box


def test_release_offered_by_wave_and_commune_hello_recorded_download_resumed(hub, tmp_path):
    pilot, other = make_box(hub, tmp_path / "pilot"), make_box(hub, tmp_path / "other", "00004")
    wheels = build_wheel(tmp_path / "r2", "0.2.0").parent
    motcua("hub", "release", "wave", "1", "--communes", "05518", *hub.args)
    publish(hub, wheels, "0.2.0", "--wave", "1")
    with pilot:
        answer, client = hello(pilot.settings, pilot.key)
        offer = answer["release"]
        manifest = verify_manifest(offer["manifest"], offer["signature"], load_public_text(hub.key))
        assert manifest["version"] == "0.2.0" and manifest["files"][0]["name"] == "motcua-0.2.0-py3-none-any.whl"
        # A download cut half-way resumes from where it stopped (HTTP Range) and checks the whole file.
        item = manifest["files"][0]
        target = tmp_path / "dl" / item["name"]
        target.parent.mkdir()
        whole = (wheels / item["name"]).read_bytes()
        target.with_name(item["name"] + ".part").write_bytes(whole[: len(whole) // 3])
        stats = download_release(client.session, client.base, manifest, target.parent)
        assert stats["resumed_from"] == len(whole) // 3 and stats["bytes"] == len(whole) - len(whole) // 3
        assert target.read_bytes() == whole
    with other:
        assert hello(other.settings, other.key)[0]["release"] is None  # wave 1 is the pilot only
    motcua("hub", "release", "target", "--version", "0.2.0", "--communes", "00004", *hub.args)
    with other:
        assert hello(other.settings, other.key)[0]["release"]["version"] == "0.2.0"
    rows = {b["commune"]: b for b in hub.api("GET", "/api/v1/releases")[0]["boxes"]}
    assert rows["05518"]["state"] == "pending" and rows["00004"]["state"] == "pending"
    versions = {b["commune"]: b["version"] for b in hub.api("GET", "/api/v1/boxes")}
    assert versions == {"05518": state.running_version(), "00004": state.running_version()}
    actions = sorted(a for (a,) in hub.query("SELECT action FROM audit_entry WHERE action LIKE 'release.%'"))
    assert actions == ["release.publish", "release.target", "release.wave"]


def test_box_offline_at_the_rollout_catches_up_later(hub, tmp_path):
    box = make_box(hub, tmp_path / "box")
    publish(hub, build_wheel(tmp_path / "r2", "0.2.0").parent, "0.2.0", "--communes", "05518")
    hub.stop()
    with box:
        assert "hello failed" in update_step(box.settings, box.key)
        assert state.load(box.settings).get("version") is None
    hub.start()
    with box:
        assert update_step(box.settings, box.key).startswith("installed 0.2.0")  # outside its window: not switched
        assert state.load(box.settings)["state"] == state.INSTALLED
        venv_python = state.release_dir(box.settings, "0.2.0") / "venv" / "bin" / "python"
        assert venv_python.exists()
        assert update_step(box.settings, box.key) == ""  # the next hello tells the hub
    rows = hub.api("GET", "/api/v1/releases")[0]["boxes"]
    assert [(b["state"], b["reason"]) for b in rows] == [("installed", "")]


def test_release_signed_by_another_key_refused(sqlite_hub, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    box = make_box(sqlite_hub, tmp_path / "box")
    publish(sqlite_hub, build_wheel(tmp_path / "r2", "0.2.0").parent, "0.2.0", "--communes", "05518")
    with box:
        answer, client = hello(box.settings, box.key)
        forged = dict(answer["release"])
        forged["manifest"], forged["signature"] = (lambda b_s: (b_s[0].decode(), b_s[1]))(
            sign_manifest(Ed25519PrivateKey.generate(), {"version": "0.2.0", "files": [], "published_at": ""}))
        assert consider(box.settings, forged, client) == "refused 0.2.0"
        refused = state.load(box.settings)
        assert refused["state"] == state.FAILED and "Chữ ký" in refused["reason"] and "0.2.0" in refused["refused"]
        assert not (state.release_dir(box.settings, "0.2.0") / "wheels").exists()
        assert consider(box.settings, answer["release"], client) == ""  # a refused version is not tried again
    with pytest.raises(ManifestRefused):
        verify_manifest(answer["release"]["manifest"].replace("0.2.0", "0.2.1"), answer["release"]["signature"],
                        load_public_text(sqlite_hub.key))


@pytest.mark.parametrize("window, moment, inside", [
    ("12:00-13:00", "12:30", True), ("12:00-13:00", "13:00", False), ("12:00-13:00", "11:59", False),
    ("17:30-06:30", "23:00", True), ("17:30-06:30", "05:00", True), ("17:30-06:30", "12:00", False),
    ("11:30-13:30, 17:00-24:00", "23:59", True), ("always", "03:00", True),
])
def test_update_window(window, moment, inside):
    hour, minute = map(int, moment.split(":"))
    now = datetime(2026, 6, 1, hour, minute, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert in_window(window, "Asia/Ho_Chi_Minh", now) is inside


@pytest.mark.parametrize("window", ["", "12-13", "25:00-26:00", "12:00-13:61"])
def test_update_window_refused(window):
    with pytest.raises(MotcuaError):
        parse_window(window)
