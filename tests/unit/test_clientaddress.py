"""The client's address is the one our proxy saw: never X-Real-Ip, never a forged X-Forwarded-For entry."""

from __future__ import annotations

from tornado.httputil import HTTPHeaders

from statcommons.platform.clientaddress import address


def headers(**values) -> HTTPHeaders:
    found = HTTPHeaders()
    for name, value in values.items():
        found[name.replace("_", "-")] = value
    return found


def test_through_our_proxy_the_address_is_the_entry_it_appended():
    # The client sent X-Forwarded-For: 1.2.3.4 and X-Real-Ip: 5.6.7.8; the proxy appended what it saw.
    sent = headers(X_Forwarded_For="1.2.3.4, 127.0.0.3", X_Real_Ip="5.6.7.8")
    assert address(sent, peer="127.0.0.1") == "127.0.0.3"


def test_a_reverse_proxy_in_front_is_believed_only_when_trusted():
    sent = headers(X_Forwarded_For="1.2.3.4, 203.0.113.7, 198.51.100.9")
    assert address(sent, peer="127.0.0.1") == "198.51.100.9"
    assert address(sent, peer="127.0.0.1", trusted=["198.51.100.9"]) == "203.0.113.7"


def test_a_request_not_from_this_machine_has_its_connections_address():
    sent = headers(X_Forwarded_For="1.2.3.4", X_Real_Ip="5.6.7.8")
    assert address(sent, peer="198.51.100.9") == "198.51.100.9"


def test_no_header_or_a_bad_entry_gives_the_connections_address():
    assert address(headers(), peer="127.0.0.1") == "127.0.0.1"
    assert address(headers(X_Real_Ip="5.6.7.8"), peer="127.0.0.1") == "127.0.0.1"
    assert address(headers(X_Forwarded_For="not-an-address"), peer="127.0.0.1") == "127.0.0.1"
