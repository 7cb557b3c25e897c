"""The request, the session and the app behind Flask's ``request``, ``session`` and ``current_app``
proxies, for the code every request runs.

Each attribute read through one of the proxies first fails on the proxy itself (Python builds an
AttributeError, message included) before the proxy's ``__getattr__`` forwards the read: some 2,000
instructions a read. A ticket read 31 attributes so in the hooks and views it runs, a health request
22 (issue 15, bench/queue_instructions.py). Read through the object itself, a read is a read.
"""
from flask import current_app, request, session


def current_request():
    return request._get_current_object()


def current_session():
    return session._get_current_object()


def current_flask_app():
    return current_app._get_current_object()
