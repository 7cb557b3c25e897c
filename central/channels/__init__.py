"""Gateways a message leaves by, one small module each, all with the same shape.

``send(message, config) -> provider_ref``: ``message`` is an outbox row (key, recipient, text,
subject, template, values), ``config`` the hub's settings. A gateway answers with its own id
for the message, or raises ``Retryable`` (worth trying again later: a 5xx, a timeout, a cut
connection) or ``Permanent`` (trying again cannot help: a 4xx, a wrong account, a bad number).

Each message carries one stable id derived from its outbox key (``request_id``): a resend after
an ambiguous outcome carries the same id, so a gateway that deduplicates by it sends once.
"""
import hashlib
import logging

import requests

logger = logging.getLogger("motcua.hub.channels")  # not `log`: that is the log channel module


class GatewayError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


class Retryable(GatewayError):
    """Try again later: the gateway may or may not have taken the message."""


class Permanent(GatewayError):
    """Trying again cannot help; a person must look (configuration, number, template)."""


def request_id(key):
    """The message's stable id at every gateway (eSMS RequestId, ZNS tracking_id, Message-ID)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def post_json(url, body, timeout, headers=None):
    """POST ``body`` as JSON; the decoded answer, or the right error for what went wrong."""
    if not url:
        raise Permanent("Chưa cấu hình địa chỉ cổng gửi tin.")
    try:
        response = requests.post(url, json=body, headers=headers or {}, timeout=timeout)
    except requests.Timeout as exc:
        raise Retryable(f"Cổng gửi tin không trả lời trong {timeout:g} giây.") from exc
    except requests.ConnectionError as exc:
        logger.warning("gateway %s not reached: %s", url, exc)  # the raw cause, for whoever reads the log
        raise Retryable("Không kết nối được tới cổng gửi tin (mạng của trung tâm hoặc cổng gửi tin không "
                        "trả lời); sẽ tự thử lại.") from exc
    except requests.RequestException as exc:
        logger.warning("request to gateway %s refused by the HTTP client: %s", url, exc)
        raise Permanent("Địa chỉ cổng gửi tin không dùng được (xem nhật ký của trung tâm); kiểm tra cấu hình.") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise Retryable(f"Cổng gửi tin lỗi HTTP {response.status_code}.")
    if response.status_code >= 400:
        raise Permanent(f"Cổng gửi tin từ chối (HTTP {response.status_code}): {response.text[:200]}")
    try:
        return response.json()
    except ValueError as exc:
        raise Retryable(f"Cổng gửi tin trả lời không phải JSON (HTTP {response.status_code}).") from exc


def adapter(channel):
    """The ``send`` function of a channel."""
    from . import log, mail, sms, zalo

    return {"sms": sms.send, "zalo": zalo.send, "email": mail.send, "log": log.send}[channel]
