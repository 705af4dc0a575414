"""The SSRF guard: which URLs and addresses a scraper may contact.

A host name is resolved and EVERY address it resolves to is checked; the HTTP client then connects to one of
the checked addresses (never to a second resolution: DNS rebinding cannot slip through). Private, loopback,
link-local, multicast, reserved and unspecified addresses are refused unless
settings.SCRAPER_ALLOW_PRIVATE_ADDRESSES is on (tests and the local demo only) or the host is listed in
settings.SCRAPER_ALLOWED_HOSTS.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from scrapers.fetching.errors import BlockedAddressError, HttpError

ALLOWED_SCHEMES = ("http", "https")

Resolver = Callable[[str, int], list[str]]


def default_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def forbidden_reason(address: str) -> str | None:
    """Why this IP address may not be contacted from a scraper, or None when it is a public address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 wrapper around an IPv4 address is judged by the address it carries.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return forbidden_reason(str(embedded))
    checks = (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    )
    for label, hit in checks:
        if hit:
            return label
    if not ip.is_global:
        return "not globally routable"
    return None


def url_problem(url: str) -> str | None:
    """Why this URL may not be requested at all (scheme, host, credentials), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (parsing the port raises on a malformed one)
    except ValueError as exc:
        return f"refused malformed URL ({exc})"
    if parts.scheme not in ALLOWED_SCHEMES:
        return f"refused URL scheme {parts.scheme or '(none)'!r}: only http and https"
    if not parts.hostname:
        return "refused URL without a host"
    if parts.username or parts.password:
        return "refused URL with credentials in it; use the source's auth header"
    return None


def check_url(url: str) -> None:
    """Raise BlockedAddressError when url_problem(url) finds one."""
    problem = url_problem(url)
    if problem:
        raise BlockedAddressError(problem)


@dataclasses.dataclass(frozen=True)
class AddressGuard:
    """Resolves a host and checks every address it resolves to before any connection is made.

    `allowed_hosts` lists "host:port" pairs (settings.SCRAPER_ALLOWED_HOSTS, e.g. the local demo server)
    reachable although private; the host is matched as written in the URL.
    """

    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    resolver: Resolver = default_resolver

    def checked_addresses(self, host: str, port: int) -> list[str]:
        try:
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise HttpError(f"cannot resolve host {host!r}: {exc}") from None
        if not addresses:
            raise HttpError(f"host {host!r} resolves to no address")
        if self.allow_private or host_port(host, port) in self.allowed_hosts:
            return addresses
        for address in addresses:
            reason = forbidden_reason(address)
            if reason:
                raise BlockedAddressError(
                    f"refused to connect to {host!r}: it resolves to {address} ({reason} address); "
                    "private addresses are reachable only through SCRAPER_ALLOWED_HOSTS "
                    "or SCRAPER_ALLOW_PRIVATE_ADDRESSES"
                )
        return addresses


def host_port(host: str, port: int) -> str:
    host = host.lower().strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
