"""Who may reach a served page or API: the rule `briefing chat` (and a future `briefing serve`) apply
before listening.

A page on a loopback address is reachable from this machine only. Anything else (`--host 0.0.0.0`, a
LAN address, a public name, a Gradio share link) lets anyone who can reach it ask, upload and delete,
so it needs a login (BRIEFING_AUTH=user:password, password rules in config.UISettings), or an explicit
`--no-auth` from someone who knows the network is private, and then a loud warning.
"""

from __future__ import annotations

import ipaddress
import socket

from ..config import Settings
from ..errors import ConfigError

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def is_loopback_host(host: str) -> bool:
    """True when every address `host` stands for is a loopback address (127.0.0.0/8, ::1).
    "0.0.0.0", "::" and "" mean every interface, so they are not loopback."""
    name = (host or "").strip().strip("[]").lower()
    if not name:
        return False
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        pass
    if name in _LOOPBACK_NAMES:
        return True
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False  # unknown name: the server will fail to bind it anyway; never assume it is private
    addrs = {info[4][0].split("%")[0] for info in infos}
    return bool(addrs) and all(ipaddress.ip_address(a).is_loopback for a in addrs)


def check_exposure(settings: Settings, host: str | None = None, share: bool | None = None,
                   no_auth: bool = False) -> str:
    """Refuse to serve beyond loopback without a login. Returns "" when the page is safe as configured,
    or the warning to show loudly when the caller passed `no_auth` for an exposed page.

    Raises ConfigError when the page would be reachable from other machines (a non-loopback host, or a
    share link) with no BRIEFING_AUTH and no explicit `no_auth`."""
    where = host or settings.ui.host
    shared = bool(share or settings.ui.share)
    exposed = shared or not is_loopback_host(where)
    if not exposed or settings.ui.auth is not None:
        return ""
    reach = "a public share link" if shared else f"{where}, which other machines can reach"
    if not no_auth:
        raise ConfigError(f"refusing to serve on {reach} without a login: anyone there could ask, upload and "
                          "delete articles",
                          hint="set BRIEFING_AUTH=user:password (8+ characters), or pass --no-auth if this "
                               "network is private and you accept that")
    return (f"WARNING: serving on {reach} WITHOUT A LOGIN (--no-auth). Anyone who can reach it can ask, "
            "upload and delete articles. Set BRIEFING_AUTH=user:password to require a login.")
