import pytest

from devices import network


@pytest.fixture
def routes(monkeypatch):
    """netifaces answering with one default route on eth0, counting how often the routes are read."""
    reads, clock = [], [1000.0]
    address = {"now": "192.168.1.20"}

    def gateways():
        reads.append(clock[0])
        return {"default": {network.netifaces.AF_INET: ("192.168.1.1", "eth0")}}

    monkeypatch.setattr(network.netifaces, "gateways", gateways)
    monkeypatch.setattr(network.netifaces, "ifaddresses",
                        lambda name: {network.netifaces.AF_INET: [{"addr": address["now"]}]})
    monkeypatch.setattr(network.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(network, "_recent", (float("-inf"), None))
    return reads, clock, address


def test_the_lan_address_is_not_read_again_on_every_ticket(routes):
    reads, clock, _ = routes
    assert [network.recent_lan_address() for _ in range(50)] == ["192.168.1.20"] * 50
    assert len(reads) == 1


def test_a_new_lan_address_shows_once_the_one_read_is_older_than_max_age(routes):
    reads, clock, address = routes
    assert network.recent_lan_address(max_age=30) == "192.168.1.20"
    address["now"] = "192.168.1.77"  # the DHCP lease changed
    clock[0] += 29
    assert network.recent_lan_address(max_age=30) == "192.168.1.20"
    clock[0] += 2
    assert network.recent_lan_address(max_age=30) == "192.168.1.77"
    assert len(reads) == 2


def test_no_route_is_remembered_as_none_and_read_again_later(routes, monkeypatch):
    reads, clock, _ = routes
    monkeypatch.setattr(network.netifaces, "gateways", lambda: reads.append(clock[0]) or {})
    assert network.recent_lan_address() is None
    assert network.recent_lan_address() is None
    assert len(reads) == 1
