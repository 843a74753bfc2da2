"""Login throttling per address range, beside django-axes' lockout per username and address.

Axes locks one username from one address after AXES_FAILURE_LIMIT failures; one password
sprayed across many usernames never reaches that. This backend (after Axes' own, before
ModelBackend) refuses every login from an address range (IPv4 /24, IPv6 /64 by default)
once the failures recorded by Axes from that range within the cool-off reach
LOGIN_RANGE_FAILURE_LIMIT: high enough that the colleagues behind one hospital NAT mistyping
their passwords do not lock each other out, low enough to stop a spray.
"""

import ipaddress
from datetime import timedelta

from axes.exceptions import AxesBackendPermissionDenied
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone


def address_range(address: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = (
        settings.LOGIN_RANGE_PREFIX_IPV4 if ip.version == 4 else settings.LOGIN_RANGE_PREFIX_IPV6
    )
    return ipaddress.ip_network(f"{ip}/{prefix}", strict=False)


def range_failures(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> int:
    """Failures Axes recorded from the range within the cool-off (one row per username and
    address; a few hundred at most in a cool-off window)."""
    since = timezone.now() - timedelta(hours=float(settings.AXES_COOLOFF_TIME or 24))
    total = 0
    for address, failures in AccessAttempt.objects.filter(attempt_time__gte=since).values_list(
        "ip_address", "failures_since_start"
    ):
        try:
            if address and ipaddress.ip_address(address) in network:
                total += failures
        except ValueError:
            continue
    return total


class AddressRangeThrottleBackend:
    """Authenticates no one; refuses everyone from a range over its failure limit. No
    get_user: sessions are restored by ModelBackend (and force_login, which picks the
    first backend having one, keeps picking it)."""

    def authenticate(self, request: HttpRequest | None, **credentials):
        if request is None or not settings.AXES_ENABLED:
            return None
        address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
        network = address_range(address or "")
        if network is None or range_failures(network) < settings.LOGIN_RANGE_FAILURE_LIMIT:
            return None
        # The flag Axes' middleware turns into its lockout answer (429).
        request.axes_locked_out = True  # type: ignore[attr-defined]
        raise AxesBackendPermissionDenied("Too many failed logins from this address range.")
