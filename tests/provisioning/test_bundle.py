"""A bundle made at a real hub sets up a fresh box, which enrols over HTTP and replicates;
a used, tampered, expired, foreign or unsafe bundle is refused with its reason, and nothing
is written outside the box's data dir."""
import io
import json
import re
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest
from werkzeug.security import check_password_hash

from motcua.settings import load_settings
from office import queue
from office.clock import utcnow
from office.models import Counter, Officer, Service
from provisioning.apply import provision as provision_here
from provisioning.bundle import (
    BundleRefused,
    build_bundle,
    format_time,
    read_bundle,
    tar_bytes,
)
from sync.capture import this_node
from sync.keys import load_private_key, sign

from .conftest import HubProcess, make_bundle, provision, run, tree

FRESH = "00004"  # communes of these tests, one each, so they share one hub
REFUSALS = "00008"
OTHER = "00025"


@pytest.fixture(scope="module")
def sqlite_hub(tmp_path_factory):
    from tests.sync.conftest import running_hub

    yield from running_hub("sqlite", tmp_path_factory.mktemp("hub"))


def test_a_bundle_sets_up_a_fresh_box_that_enrols_and_replicates(hub, tmp_path, opened):
    bundle = tmp_path / "usb" / "box.motcua"
    made = make_bundle(hub, bundle, FRESH, "--wifi-ssid", "UBND-xa", "--wifi-psk", "matkhau-wifi")
    password = re.search(r"Mật khẩu kỹ thuật: (\S+)", made).group(1)
    assert f"(mã {FRESH})" in made and "Hết hạn:" in made and hub.url in made
    assert bundle.stat().st_mode & 0o777 == 0o600
    with tarfile.open(bundle) as tar:
        assert tar.getnames() == ["manifest.json", "manifest.sig", "box.json", "snapshot.json"]
        assert hub.key in tar.extractfile("manifest.json").read().decode()
    token_hashes = hub.query("select token_hash, commune, consumed_at from enrol_token")
    assert len(token_hashes) == 1 and token_hashes[0][1:] == (FRESH, None)
    assert token_hashes[0][0] not in bundle.read_bytes().decode("utf-8", "replace")  # the hash, never the token

    before = tree(tmp_path, skip=tmp_path / "box")
    code, out = provision(tmp_path / "box", bundle)
    assert code == 0, out
    assert "trung tâm đã nhận khoá của hộp" in out and "dịch vụ và quầy chuẩn" in out
    assert tree(tmp_path, skip=tmp_path / "box") == before  # nothing outside the data dir

    box = opened(tmp_path / "box")
    assert box.settings["commune_code"] == FRESH and box.settings["hub_url"] == hub.url
    assert check_password_hash(box.settings["technician_password_hash"], password)
    assert (box.dir / "keys" / "box.key").stat().st_mode & 0o777 == 0o600
    assert (box.dir / "keys" / "hub.pub").read_text().strip() == hub.key
    assert json.loads((box.dir / "network.json").read_text())["wifi_ssid"] == "UBND-xa"
    assert (box.dir / "network.json").stat().st_mode & 0o777 == 0o600
    with box:
        node = this_node()
        assert (node.scope, node.hub_key, node.hub_url) == (FRESH, hub.key, hub.url)
        assert Service.select().count() == 5 and Counter.select().count() == 3
        assert Officer.select().count() == 0  # no account with a known password on a real box
        ticket = queue.issue_ticket(queue.QueuePolicy(), "ho-tich")
    assert hub.query("select consumed_by from enrol_token") == [(node.node_id,)]
    assert hub.query(f"select status from box_node where node_id = '{node.node_id}'") == [("active",)]
    result = box.sync()
    assert result["ok"] and result["pending"] == 0, result
    assert hub.query(f"select number from ticket where id = '{ticket.id}'") == [("A-001",)]

    again = tmp_path / "again"
    code, out = provision(again, bundle)
    assert code != 0
    assert "Gói cài đặt này đã được dùng" in out and node.node_id in out
    assert not (again / "motcua.toml").exists() and not (again / "edge.db").exists()  # not provisioned
    code, out = provision(tmp_path / "box", bundle)  # the stick plugged in again: nothing to do
    assert code == 0 and "đã được áp dụng cho hộp này" in out
    listing = run("hub", "enrolments", *hub.args).stdout
    assert "enrolled" in listing and "refused" in listing and "đã dùng bởi " + node.node_id in listing


# --- refusals -----------------------------------------------------------------------------------

def _members(path):
    with tarfile.open(path) as tar:
        return [(m.name, tar.extractfile(m).read()) for m in tar]


def _flip(path, member, at=10):
    data = bytearray(Path(path).read_bytes())
    with tarfile.open(path) as tar:
        offset = tar.getmember(member).offset_data
    data[offset + at] ^= 0x01
    return bytes(data)


def _with(path, extra_info, content=b""):
    """The bundle's members plus one crafted header (a link, a device, a path...)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in _members(path):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        tar.addfile(extra_info, io.BytesIO(content) if content else None)
    return out.getvalue()


def _info(name, kind=tarfile.REGTYPE, link="", size=0):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, link, size
    return info


def _replaced(path, name, data):
    return tar_bytes([(n, data if n == name else d) for n, d in _members(path)])


def _expired(hub_dir, path):
    bundle = read_bundle(path)
    manifest = {k: v for k, v in bundle.manifest.items() if k not in ("members", "format", "version")}
    manifest["created_at"] = format_time(utcnow() - timedelta(days=4))
    manifest["expires_at"] = format_time(utcnow() - timedelta(days=1))
    return build_bundle(load_private_key(Path(hub_dir) / "keys" / "hub.key"), manifest, bundle.box, bundle.snapshot)


def _resigned(key_path, path):
    """The same manifest, signed by another key."""
    members = dict(_members(path))
    members["manifest.sig"] = (sign(load_private_key(key_path), members["manifest.json"]) + "\n").encode()
    return tar_bytes(list(members.items()))


CASES = {
    "byte flipped in box.json": ("hash", "không khớp với bản kê đã ký", lambda h, p: _flip(p, "box.json")),
    "byte flipped in the manifest": ("signature", "Chữ ký của gói cài đặt không hợp lệ",
                                     lambda h, p: _flip(p, "manifest.json", 40)),
    "box.json replaced": ("hash", "không khớp với bản kê đã ký", lambda h, p: _replaced(
        p, "box.json", json.dumps({"enrol_token": "x", "technician_password_hash": "pbkdf2:evil"}).encode())),
    "manifest replaced": ("signature", "Chữ ký", lambda h, p: _replaced(
        p, "manifest.json", _members(p)[0][1].replace(b'"restore": false', b'"restore": true'))),
    "expired": ("expired", "đã hết hạn lúc", lambda h, p: _expired(h.dir, p)),
    "signed by an unknown key": ("signature", "Chữ ký", lambda h, p: _resigned(h.dir.parent / "other" / "k", p)),
    "dot-dot path": ("unsafe_path", "ra ngoài thư mục", lambda h, p: _with(p, _info("../evil.json", size=4), b"evil")),
    "nested dot-dot path": ("unsafe_path", "ra ngoài thư mục",
                            lambda h, p: _with(p, _info("a/../../evil.json", size=4), b"evil")),
    "absolute path": ("unsafe_path", "tuyệt đối", lambda h, p: _with(p, _info("/tmp/evil.json", size=4), b"evil")),
    "sub-folder": ("unsafe_path", "thư mục", lambda h, p: _with(p, _info("keys/box.key", size=4), b"evil")),
    "symlink": ("link", "liên kết", lambda h, p: _with(p, _info("evil", tarfile.SYMTYPE, "/etc/passwd"))),
    "symlink named like a member": ("link", "liên kết",
                                    lambda h, p: _with(p, _info("snapshot.json", tarfile.SYMTYPE, "../../x"))),
    "hard link": ("link", "liên kết", lambda h, p: _with(p, _info("snapshot.json", tarfile.LNKTYPE, "box.json"))),
    "device": ("special", "không phải tệp thường", lambda h, p: _with(p, _info("snapshot.json", tarfile.CHRTYPE))),
    "folder": ("special", "không phải tệp thường", lambda h, p: _with(p, _info("snapshot.json", tarfile.DIRTYPE))),
    "unknown member": ("unknown_member", "tệp lạ", lambda h, p: _with(p, _info("run.sh", size=4), b"rm -"),),
    "member repeated": ("duplicate", "hai lần", lambda h, p: _with(p, _info("box.json", size=2), b"{}")),
    "oversize member": ("too_big", "quá lớn", lambda h, p: _replaced(p, "snapshot.json", b" " * (9 << 20))),
    "not a tar": ("corrupt", "bị hỏng", lambda h, p: b"PK\x03\x04" + Path(p).read_bytes()[:300]),
}


@pytest.fixture(scope="module")
def good_bundle(sqlite_hub, tmp_path_factory):
    path = tmp_path_factory.mktemp("usb") / "good.motcua"
    make_bundle(sqlite_hub, path, REFUSALS)
    other = sqlite_hub.dir.parent / "other"
    other.mkdir(exist_ok=True)
    from sync.keys import generate_key

    generate_key(other / "k")
    return path


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_bad_bundle_is_refused_with_its_reason_and_writes_nothing(sqlite_hub, good_bundle, tmp_path, case):
    reason, words, craft = CASES[case]
    bad = tmp_path / "usb" / "bad.motcua"
    bad.parent.mkdir()
    bad.write_bytes(craft(sqlite_hub, good_bundle))
    data_dir = tmp_path / "media" / "box"
    before = tree(tmp_path)
    with pytest.raises(BundleRefused) as refused:
        provision_here(load_settings("edge", environ={}, overrides={"data_dir": str(data_dir)}), bad)
    assert (refused.value.reason, words in refused.value.message) == (reason, True), refused.value.message
    assert tree(tmp_path) == before  # not even the data dir was made
    assert not list(tmp_path.parent.glob("evil*")) and not Path("/tmp/evil.json").exists()
    assert sqlite_hub.query(f"select consumed_at from enrol_token where commune = '{REFUSALS}'") == [(None,)]


@pytest.mark.parametrize("case", ["dot-dot path", "symlink", "byte flipped in box.json"])
def test_the_command_says_why_and_fails(sqlite_hub, good_bundle, tmp_path, case):
    _, words, craft = CASES[case]
    bad = tmp_path / "bad.motcua"
    bad.write_bytes(craft(sqlite_hub, good_bundle))
    before = tree(tmp_path)
    code, out = provision(tmp_path / "box", bad)
    assert code == 2 and "Lỗi: " in out and words in out, out
    assert tree(tmp_path) == before


@pytest.fixture
def other_hub(tmp_path):
    """Another hub's key and database (never started): bundles it makes name another key."""
    other = HubProcess(tmp_path / "hub-b")
    yield other
    other.close()


def test_a_bundle_of_another_hub_is_refused_once_a_hub_key_is_pinned(sqlite_hub, good_bundle, other_hub, tmp_path):
    foreign = tmp_path / "usb" / "foreign.motcua"
    make_bundle(other_hub, foreign, REFUSALS)
    assert read_bundle(foreign).hub_key == other_hub.key  # fine for a box that trusts no hub yet
    resigned = tmp_path / "usb" / "resigned.motcua"  # names our hub's key, signed by the other hub
    resigned.write_bytes(_resigned(other_hub.dir / "keys" / "hub.key", good_bundle))
    image = tmp_path / "image"  # a box image carrying the province hub's key
    (image / "keys").mkdir(parents=True)
    (image / "keys" / "hub.pub").write_text(sqlite_hub.key + "\n")
    settings = load_settings("edge", environ={}, overrides={"data_dir": str(image)})
    before = tree(tmp_path)
    with pytest.raises(BundleRefused, match="trung tâm khác") as refused:
        provision_here(settings, foreign)
    assert refused.value.reason == "wrong_hub"
    with pytest.raises(BundleRefused, match="Chữ ký") as refused:
        provision_here(settings, resigned)
    assert refused.value.reason == "signature"
    assert tree(tmp_path) == before


def test_a_box_pinned_in_its_database_refuses_another_hub(sqlite_hub, other_hub, tmp_path):
    from tests.sync.conftest import Box

    box = Box(tmp_path / "box", OTHER, sqlite_hub)  # set up with `edge init --hub-key` earlier
    foreign = tmp_path / "foreign.motcua"
    make_bundle(other_hub, foreign, OTHER)
    code, out = provision(box.dir, foreign)
    box.db.close()
    assert code == 2 and "do một trung tâm khác tạo" in out, out


def test_a_box_of_another_commune_refuses_the_bundle(sqlite_hub, tmp_path):
    from tests.sync.conftest import Box

    box = Box(tmp_path / "box", OTHER, sqlite_hub)
    bundle = tmp_path / "b.motcua"
    make_bundle(sqlite_hub, bundle, REFUSALS)
    before = tree(tmp_path, skip=box.dir)
    code, out = provision(box.dir, bundle)
    assert code == 2 and "Hộp này đã được cài cho" in out and f"mã {OTHER}" in out, out
    assert tree(tmp_path, skip=box.dir) == before
    assert not (box.dir / "motcua.toml").exists() and not (box.dir / "provision.json").exists()
    box.db.close()


def test_an_expired_token_is_refused_by_the_hub_even_if_the_box_clock_is_behind(sqlite_hub, tmp_path):
    bundle = tmp_path / "late.motcua"
    make_bundle(sqlite_hub, bundle, OTHER, "--hours", "1")
    bundle_id = read_bundle(bundle).bundle_id
    sqlite_hub.query(f"update enrol_token set expires_at = '2020-01-01 00:00:00' where bundle_id = '{bundle_id}'")
    code, out = provision(tmp_path / "box", bundle)
    assert code == 2 and "Gói cài đặt đã hết hạn" in out, out
    assert not (tmp_path / "box" / "motcua.toml").exists()


def test_scan_finds_the_bundle_on_a_usb_stick(sqlite_hub, tmp_path, opened):
    media = tmp_path / "media"
    stick = media / "pi" / "USB DISK"
    stick.mkdir(parents=True)
    make_bundle(sqlite_hub, stick / "xa.motcua", "00070")
    box_dir = tmp_path / "box"
    code, out = provision(box_dir, "--scan", "--usb-mount-dirs", f"{tmp_path / 'nothing'},{media}")
    assert code == 0 and "Thấy gói cài đặt" in out and "Đã cài hộp" in out, out
    assert opened(box_dir).settings["commune_code"] == "00070"
    code, out = provision(box_dir, "--scan", "--usb-mount-dirs", str(media))
    assert code == 0 and "Không có gói cài đặt mới" in out, out
    make_bundle(sqlite_hub, stick / "khac.motcua", "00082")
    (stick / "link.motcua").symlink_to(stick / "khac.motcua")
    code, out = provision(box_dir, "--scan", "--usb-mount-dirs", str(media))
    assert code == 2 and "khac.motcua" in out and "hộp này đã cài cho xã 00070" in out, out


def test_the_hub_takes_a_token_once_even_when_boxes_race(hub, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    import requests
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from provisioning.enrol import enrol_request
    from sync.keys import node_id
    from sync.protocol import SIGNATURE

    path = tmp_path / "race.motcua"
    make_bundle(hub, path, "00097")
    bundle = read_bundle(path)
    token = bundle.box["enrol_token"]

    def post(body, signature):
        response = requests.post(hub.url + "/sync/v1/enrol", data=body, timeout=20,
                                 headers={SIGNATURE: signature, "Content-Type": "application/json"})
        return response.status_code, response.json()

    key = Ed25519PrivateKey.generate()
    body, signature = enrol_request(key, token, bundle.bundle_id, "00097", True)
    status, answer = post(body.replace(b'"fresh":true', b'"fresh":false'), signature)
    assert status == 401 and "Chữ ký" in answer["error"]
    status, answer = post(*enrol_request(key, token, bundle.bundle_id, "00103", True))
    assert status == 403 and "không khớp" in answer["error"]
    keys = [Ed25519PrivateKey.generate() for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda k: post(*enrol_request(k, token, bundle.bundle_id, "00097", True)), keys))
    winners = [k for k, (status, _) in zip(keys, results, strict=True) if status == 200]
    assert len(winners) == 1, results
    assert sorted(status for status, _ in results) == [200] + [409] * 7
    assert all("đã được dùng" in a["error"] or "vừa được dùng" in a["error"] for s, a in results if s == 409)
    assert hub.query("select node_id from box_node where commune = '00097'") == [(node_id(winners[0]),)]
    status, answer = post(*enrol_request(winners[0], token, bundle.bundle_id, "00097", True))
    assert status == 200 and answer["repeated"]  # its answer was lost: the same answer again
    outcomes = sorted(r[0] for r in hub.query("select outcome from enrolment where commune = '00097'"))
    assert outcomes == ["enrolled"] + ["refused"] * 7 + ["repeated"]  # 7 late boxes
    # the forged signature proves nothing about its sender: counted, not logged row by row
    assert hub.query("select count from refusal_count where origin = '?' and reason = 'signature'") == [(1,)]
