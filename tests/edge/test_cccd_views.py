"""The desk's ID-card reader over HTTP: fields back, the raw code nowhere, errors in Vietnamese."""
import io
import logging

import segno

from tests.conftest import sign_in

RAW = "001099012345|123456789|Nguyễn Văn An|01011990|Nam|Tổ 5, phường Sông Công, Thái Nguyên|15082021"


def test_scanned_text_gives_the_applicant_fields(client, caplog):
    sign_in(client)
    with caplog.at_level(logging.DEBUG):
        answer = client.post("/dossiers/cccd", json={"text": RAW + "\r\n"})
    assert answer.status_code == 200
    assert answer.json["fields"] == {"name": "Nguyễn Văn An", "id_number": "001099012345",
                                     "address": "Tổ 5, phường Sông Công, Thái Nguyên"}
    assert answer.json["card"]["birth_date"] == "1990-01-01"
    assert "001099012345" not in caplog.text and "Sông Công, Thái" not in caplog.text


def test_reading_a_card_needs_an_officer(client):
    assert client.post("/dossiers/cccd", json={"text": RAW}).status_code == 401


def test_text_that_is_not_a_card_is_refused_in_vietnamese(client):
    sign_in(client)
    answer = client.post("/dossiers/cccd", json={"text": "https://example.vn/abc"})
    assert answer.status_code == 422
    assert "thẻ căn cước" in answer.json["error"]


def test_webcam_still_with_the_card_code_gives_the_fields(client):
    sign_in(client)
    png = io.BytesIO()
    segno.make(RAW, error="m").save(png, kind="png", scale=5, border=4)
    answer = client.post("/dossiers/cccd/image", data=png.getvalue(), content_type="image/png")
    assert answer.status_code == 200, answer.json
    assert answer.json["fields"]["id_number"] == "001099012345"


def test_webcam_still_without_a_code_says_what_to_do(client):
    from PIL import Image
    sign_in(client)
    png = io.BytesIO()
    Image.new("L", (320, 240), 200).save(png, format="PNG")
    answer = client.post("/dossiers/cccd/image", data=png.getvalue(), content_type="image/png")
    assert answer.status_code == 422
    assert "camera" in answer.json["error"]
    garbage = client.post("/dossiers/cccd/image", data=b"\x00" * 100, content_type="image/jpeg")
    assert garbage.status_code == 422 and "chụp lại" in garbage.json["error"]
