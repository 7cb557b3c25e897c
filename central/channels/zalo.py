"""Zalo ZNS: a registered template with named fields, sent to a phone number.

POST {zalo_url} with header ``access_token`` and JSON {phone, template_id, template_data,
tracking_id}. Answer {error: 0, data: {msg_id}}. Per Zalo's error guide only -100 ("unknown
error, try again later") is worth retrying; the others are about the app, the OA, the
template or the number. ZNS echoes tracking_id in its reports but does not document
deduplicating by it: a resend after a lost answer may reach the citizen twice.
"""
from . import Permanent, Retryable, post_json, request_id

RETRYABLE = {-100}


def templates(config):
    """``dossier_received=123,dossier_ready=456`` -> {kind: template id}."""
    pairs = {}
    for part in filter(None, (p.strip() for p in config["zalo_templates"].replace(";", ",").split(","))):
        kind, _, template = part.partition("=")
        if template.strip():
            pairs[kind.strip()] = template.strip()
    return pairs


def body(message, config):
    return {"phone": message.recipient, "template_id": message.template, "template_data": message.values,
            "tracking_id": request_id(message.key)}


def send(message, config):
    if not config["zalo_access_token"]:
        raise Permanent("Chưa cấu hình access token Zalo (zalo_access_token).")
    if not message.template:
        raise Permanent(f"Chưa có mẫu ZNS cho loại tin “{message.purpose}” (zalo_templates).")
    answer = post_json(config["zalo_url"], body(message, config), config["notify_timeout"],
                       headers={"access_token": config["zalo_access_token"]})
    try:
        error = int(answer.get("error", -100))
    except (TypeError, ValueError):
        error = -100
    if error == 0:
        return str((answer.get("data") or {}).get("msg_id") or request_id(message.key))
    text = f"Zalo ZNS trả mã {error}: {answer.get('message', '')}".strip()
    raise (Retryable if error in RETRYABLE else Permanent)(text)
