"""The box's network interfaces (netifaces)."""
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
