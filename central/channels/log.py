"""A channel for demonstrations and tests: the text goes to the hub's log; it always succeeds."""
import logging

from motcua.logs import mask_phone

from . import request_id

log = logging.getLogger("motcua.hub.notify")


def send(message, config):
    log.info("tin %s tới %s: %s", message.channel, mask_phone(message.recipient), message.text)
    return f"log-{request_id(message.key)}"
