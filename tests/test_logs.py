"""Logs carry no citizen's phone number: every handler the processes set up masks them."""
import io
import logging

import pytest

from central.channels import log as log_channel
from central.outbox import Outbox
from devices.health import attach_log_file
from motcua.logs import configure_logging


@pytest.fixture
def root_output():
    """What the root logger's stream handler writes, as configure_logging leaves it."""
    configure_logging("INFO")
    stream = io.StringIO()
    for handler in logging.getLogger().handlers:
        handler.setStream(stream)
    yield stream
    configure_logging("WARNING")


def test_phone_numbers_are_masked_in_logs(root_output, tmp_path):
    file_handler = attach_log_file(tmp_path, "hub")
    message = Outbox(key="N1|log|84912345678", channel="log", recipient="84912345678", text="Hồ sơ đã có kết quả")
    log_channel.send(message, {})
    logging.getLogger("motcua.hub.inbound").warning("tin đến từ %s: %s", "0912345678", "gọi lại 0987654321")
    file_handler.close()
    logging.getLogger().removeHandler(file_handler)
    for text in (root_output.getvalue(), (tmp_path / "logs" / "hub.log").read_text("utf-8")):
        assert "84*******78" in text and "09******78" in text and "09******21" in text, text
        assert "912345678" not in text and "987654321" not in text


@pytest.mark.parametrize("text, masked", [
    ("0912345678", "09******78"), ("84912345678", "84*******78"), ("+84912345678", "+84*******78"),
    ("số 02083123456.", "số 02*******56."),
    ("A-001 box-3fa9c2 seq 1733400000000 000.19.05.H12-261205-0001", None),  # not phone numbers
])
def test_what_counts_as_a_phone_number(text, masked):
    from motcua.logs import mask_phones

    assert mask_phones(text) == (masked or text)
