"""Which network addresses ingest may fetch from: public ones only, unless told otherwise.

A URL given to ingest, a feed's item links and every redirect could point at this machine or its
network (127.0.0.1, 10.0.0.0/8, the cloud metadata service at 169.254.169.254, ::1): server-side
request forgery. Every host name is resolved here and refused when any of its addresses is loopback,
private, link-local, reserved, multicast, unspecified or otherwise not globally routable, IPv4 and
IPv6 alike, including IPv4 addresses embedded in IPv6 (::ffff:10.0.0.1, 6to4, Teredo, NAT64).
fetch.py connects to exactly the addresses checked here (see GuardedBackend), so a name that
resolves to a public address for the check and a private one for the connection (DNS rebinding)
gets nowhere. BRIEFING_FETCH__ALLOW_PRIVATE=true turns the check off (intranet sites, tests).
"""

from __future__ import annotations

import ipaddress
import socket

from ..errors import IngestError

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HINT = "only public addresses are fetched; BRIEFING_FETCH__ALLOW_PRIVATE=true allows private ones"


def blocked_kind(address: str) -> str:
    """Why an IP address may not be fetched from ("loopback", "private", ...), or "" when it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id (fe80::1%eth0)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is the IPv4 host itself
            return blocked_kind(str(ip.ipv4_mapped))
        embedded = [ip.sixtofour, ip.teredo[1] if ip.teredo else None]
        if ip in _NAT64 or (int(ip) >> 32 == 0 and int(ip) > 1):  # NAT64, deprecated IPv4-compatible ::a.b.c.d
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        for inner in embedded:
            if inner is not None and (kind := blocked_kind(str(inner))):
                return kind
    for kind, hit in (("loopback", ip.is_loopback), ("unspecified", ip.is_unspecified),
                      ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                      ("private", ip.is_private), ("reserved", ip.is_reserved), ("non-public", not ip.is_global)):
        if hit:
            return kind
    return ""


def public_addresses(host: str, port: int | None, allow_private: bool = False) -> list[str]:
    """The addresses `host` resolves to, in resolver order, after checking each one.

    Raises IngestError when the name does not resolve, or when any address is not public (one bad
    answer is enough: a resolver may hand out either). With `allow_private` nothing is refused."""
    name = (host or "").strip().strip("[]")
    if not name:
        raise IngestError("the URL has no host name; give a full http(s) URL")
    try:
        infos = socket.getaddrinfo(name, port or None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise IngestError(f"cannot connect ({name} not found: {exc}); check the address and your network") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private:
        for address in addresses:
            if kind := blocked_kind(address):
                shown = name if address == name else f"{name} ({address})"
                raise IngestError(f"refused to fetch from {shown}: a {kind} address; {_HINT}")
    return addresses
