"""SMS brandname over HTTP, shaped like eSMS.vn's JSON API (SendMultipleMessage_V4_post_json).

Body: ApiKey, SecretKey, Phone (84xxxxxxxxx), Content, Brandname, SmsType "2" (customer care),
IsUnicode "0"/"1", RequestId. The gateway refuses a RequestId it has seen (CodeResult 124,
"Duplicate RequestId"), so a resend after a lost answer never reaches the citizen twice and
counts as accepted here. CodeResult "100" = accepted, with the gateway's SMSID.
"""
from . import Permanent, Retryable, post_json, request_id

ACCEPTED, DUPLICATE = "100", "124"
# 99 blocked number, 101 wrong keys, 102 no price list, 104 unknown brandname, 108 bad number,
# 118 unsupported type, 140 IP not allowed, 146 template not registered, 177 network not registered.
# Anything else (103 balance, unknown codes) is tried again: it may clear without us.
PERMANENT = {"99", "101", "102", "104", "108", "118", "140", "146", "177"}


def body(message, config):
    return {
        "ApiKey": config["sms_api_key"],
        "SecretKey": config["sms_secret_key"],
        "Phone": message.recipient,
        "Content": message.text,
        "Brandname": config["sms_brandname"],
        "SmsType": "2",
        "IsUnicode": "0" if config["sms_ascii"] else "1",
        "RequestId": request_id(message.key),
    }


def send(message, config):
    if not (config["sms_api_key"] and config["sms_secret_key"] and config["sms_brandname"]):
        raise Permanent("Chưa cấu hình tài khoản SMS brandname (sms_api_key, sms_secret_key, sms_brandname).")
    answer = post_json(config["sms_url"], body(message, config), config["notify_timeout"])
    code = str(answer.get("CodeResult", ""))
    if code == ACCEPTED:
        return str(answer.get("SMSID") or request_id(message.key))
    if code == DUPLICATE:  # taken before: our earlier attempt got through
        return str(answer.get("SMSID") or f"RequestId {request_id(message.key)}")
    error = f"Cổng SMS trả mã {code or '?'}: {answer.get('ErrorMessage', '')}".strip()
    raise (Permanent if code in PERMANENT else Retryable)(error)
