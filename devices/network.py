"""The box's network interfaces (netifaces)."""
import time

import netifaces


def lan_address():
    """IPv4 address of the interface holding the default route, or None when offline."""
    try:
        gateway = netifaces.gateways().get("default", {}).get(netifaces.AF_INET)
        if not gateway:
            return None
        addresses = netifaces.ifaddresses(gateway[1]).get(netifaces.AF_INET, [])
        return addresses[0]["addr"] if addresses else None
    except (ValueError, OSError, KeyError):
        return None


_recent = (float("-inf"), None)  # (monotonic time it was read, address)


def recent_lan_address(max_age=30.0):
    """``lan_address()`` as read at most ``max_age`` seconds ago: a ticket's QR code names the box when
    it knows no hub, and reading the routes and the interfaces on every ticket cost a request more
    than a SQL statement does, most of it in the kernel (issue 15). A new address (DHCP) shows within
    ``max_age`` seconds."""
    global _recent
    now = time.monotonic()
    read_at, address = _recent
    if now - read_at > max_age:
        address = lan_address()
        _recent = (now, address)
    return address
