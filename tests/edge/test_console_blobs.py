"""The technician console on the box's files against blob_box_limit_mb: a figure, a warning past 90 %
with a remedy, a problem (and no more fetching) at the limit; nothing is deleted."""
import io
import os

from blobs import open_store
from tests.edge.test_console import console, login  # noqa: F401  (fixture)


def blob_check(client):
    data = client.get("/console/health.json").get_json()
    return {r["key"]: r for r in data["results"]}["blobs"]


def test_the_console_warns_before_the_box_limit_and_says_it_stopped_at_it(client, console, settings):
    settings["blob_box_limit_mb"] = 1
    store = open_store(settings)
    login(client)
    store.put(io.BytesIO(os.urandom(300 * 1024)))
    check = blob_check(client)
    assert check["status"] == "ok" and "300,0 KB / giới hạn 1,0 MB (29%)" in check["value"]
    store.put(io.BytesIO(os.urandom(660 * 1024)))
    check = blob_check(client)
    assert check["status"] == "warning" and "(94%)" in check["value"] and "Sắp đạt giới hạn" in check["value"]
    assert "blob_box_limit_mb" in check["remedy"] and "không tự xoá" in check["remedy"]
    store.put(io.BytesIO(os.urandom(100 * 1024)))
    check = blob_check(client)
    assert check["status"] == "problem" and "ngừng tải tệp mới" in check["value"]
    page = client.get("/console/").get_data(as_text=True)
    assert "Tệp đính kèm (giấy tờ, ảnh, bản quét)" in page and "ngừng tải tệp mới" in page
    assert store.total_size() == 1060 * 1024  # nothing deleted
