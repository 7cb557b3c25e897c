"""E-mail over SMTP (smtplib), optionally STARTTLS and login.

The Message-ID comes from the outbox key: a resend after a lost answer carries the same id,
which mail clients use to collapse duplicates (SMTP itself does not deduplicate).
"""
import logging
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from . import Permanent, Retryable, request_id

log = logging.getLogger("motcua.hub.channels")


def build(message, config):
    mail = EmailMessage()
    mail["From"] = config["smtp_sender"]
    mail["To"] = message.recipient
    mail["Subject"] = message.subject or "Thông báo từ bộ phận một cửa"
    mail["Date"] = formatdate(localtime=False)
    domain = config["smtp_sender"].rpartition("@")[2] or "motcua"
    mail["Message-ID"] = f"<{request_id(message.key)}@{domain}>"
    mail.set_content(message.text)
    return mail


def send(message, config):
    if not (config["smtp_host"] and config["smtp_sender"]):
        raise Permanent("Chưa cấu hình máy chủ thư (smtp_host, smtp_sender).")
    mail = build(message, config)
    try:
        with smtplib.SMTP(config["smtp_host"], config["smtp_port"], timeout=config["notify_timeout"]) as smtp:
            if config["smtp_starttls"]:
                smtp.starttls(context=ssl.create_default_context())
            if config["smtp_user"]:
                smtp.login(config["smtp_user"], config["smtp_password"])
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        raise Permanent(f"Máy chủ thư từ chối địa chỉ {message.recipient}.") from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise Permanent("Máy chủ thư từ chối đăng nhập (smtp_user, smtp_password).") from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise Permanent(f"Máy chủ thư không hỗ trợ: {exc}") from exc
    except smtplib.SMTPResponseException as exc:
        kind = Retryable if 400 <= exc.smtp_code < 500 else Permanent
        raise kind(f"Máy chủ thư trả lời {exc.smtp_code}: {exc.smtp_error!r}") from exc
    except (smtplib.SMTPException, OSError, socket.timeout) as exc:
        log.warning("mail server %s:%s: %s", config["smtp_host"], config["smtp_port"], exc)  # the raw cause
        raise Retryable("Không kết nối được tới máy chủ thư (hết thời gian chờ hoặc bị ngắt); sẽ tự thử lại.") from exc
    return mail["Message-ID"]
