"""Who may reach a served page or API: the rule `briefing chat` and `briefing serve` apply before
listening, and the per-request rules the gate (gate.py) applies.

A page on a loopback address is reachable from this machine only. Anything else (`--host 0.0.0.0`, a
LAN address, a public name, a Gradio share link) lets anyone who can reach it ask, upload and delete,
so it needs a login (BRIEFING_AUTH=user:password, password rules in config.UISettings), or an explicit
`--no-auth` from someone who knows the network is private, and then a loud warning.

Per request: the Host header must name this server (a page on another site that rebinds its name to
127.0.0.1 sends its own name), a browser's Origin must be the page itself or a listed origin, and an
address that keeps failing the login waits (FailureThrottle).
"""

from __future__ import annotations

import ipaddress
import math
import secrets
import socket
import threading
import time
from collections import OrderedDict, deque
from typing import Callable, Iterable
from urllib.parse import urlsplit

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
                          hint=f"set BRIEFING_AUTH=user:password (12+ characters; a new random one: "
                               f"BRIEFING_AUTH=editor:{new_token()}), or pass --no-auth if this network is "
                               "private and you accept that")
    return (f"WARNING: serving on {reach} WITHOUT A LOGIN (--no-auth). Anyone who can reach it can ask, "
            "upload and delete articles. Set BRIEFING_AUTH=user:password to require a login.")


def new_token() -> str:
    """A random password for BRIEFING_AUTH (32 URL-safe characters, 192 bits): what `briefing serve`
    suggests when it refuses to serve without a login."""
    return secrets.token_urlsafe(24)


def host_name(header: str) -> str:
    """The name in a Host header or an origin's netloc, lowercased, without port or IPv6 brackets."""
    value = (header or "").strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    if value.count(":") > 1:  # a bare IPv6 address: no port to strip
        return value
    return value.partition(":")[0].rstrip(".")


def loopback_name(name: str) -> bool:
    """True for names that mean this machine without asking DNS (a rebinding attack controls DNS)."""
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_hosts(settings: Settings, served_on: str | None = None) -> frozenset[str]:
    """Host names the server answers to besides loopback ones: BRIEFING_UI__ALLOWED_HOSTS and the address
    it listens on, unless that is every interface (then clients use names only the user knows)."""
    names = {host_name(h) if h != "*" else "*" for h in settings.ui.allowed_hosts}
    bound = host_name(served_on or settings.ui.host)
    if bound and bound not in ("0.0.0.0", "::"):
        names.add(bound)
    return frozenset(names)


def host_allowed(header: str | None, allowed: Iterable[str]) -> bool:
    """Whether a request's Host header names this server."""
    allowed = frozenset(allowed)
    if "*" in allowed:
        return True
    name = host_name(header or "")
    return bool(name) and (loopback_name(name) or name in allowed)


def origin_allowed(origin: str, host_header: str | None, allowed: Iterable[str]) -> bool:
    """Whether a browser's Origin may call: the page itself (same host and port as the Host header) or an
    origin listed in BRIEFING_UI__ALLOWED_ORIGINS. "null" (a sandboxed frame, a file) never may."""
    origin = origin.strip().lower().rstrip("/")
    if origin in {o.strip().lower().rstrip("/") for o in allowed}:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    default = "443" if parts.scheme == "https" else "80"
    own = (host_header or "").strip().lower()
    return _with_port(parts.netloc, default) in (_with_port(own, "80"), _with_port(own, "443"))


def _with_port(netloc: str, default: str) -> str:
    if netloc.endswith("]") or netloc.count(":") == 0:
        return f"{netloc}:{default}"
    return netloc


class FailureThrottle:
    """Failed logins per client address: after `limit` failures within `window_s` seconds the address
    waits until its oldest failure leaves the window, and every attempt in the meantime is refused
    unchecked (otherwise the wait costs a guesser nothing). A success clears the address.

    Bounded: at most `max_addresses` addresses are remembered, the least recently failing forgotten first."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic,
                 max_addresses: int = 10_000) -> None:
        self.limit, self.window_s, self._clock, self._max = limit, window_s, clock, max_addresses
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> "FailureThrottle":
        """BRIEFING_UI__LOGIN_FAILURES failures per BRIEFING_UI__LOGIN_WINDOW_S."""
        return cls(settings.ui.login_failures, settings.ui.login_window_s)

    def retry_after(self, address: str) -> int:
        """Seconds `address` must wait before its next attempt is checked; 0 when it may try now."""
        with self._lock:
            times = self._recent(address)
            if len(times) < self.limit:
                return 0
            return max(1, math.ceil(times[0] + self.window_s - self._clock()))

    def failed(self, address: str) -> None:
        """Count a failed attempt from `address`."""
        with self._lock:
            times = self._recent(address)
            times.append(self._clock())
            self._failures[address] = times
            self._failures.move_to_end(address)
            while len(self._failures) > self._max:
                self._failures.popitem(last=False)

    def succeeded(self, address: str) -> None:
        """Forget the failures of `address` (its user got in)."""
        with self._lock:
            self._failures.pop(address, None)

    def _recent(self, address: str) -> deque[float]:
        times = self._failures.get(address) or deque(maxlen=self.limit)
        cutoff = self._clock() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        return times
