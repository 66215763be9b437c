"""Print a new VAPID key pair as environment lines (for Web Push, pwa/push.py)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.core.management.base import BaseCommand
from py_vapid import Vapid02, b64urlencode


def new_keys() -> tuple[str, str]:
    """(public, private), base64url: the public key as browsers take it (applicationServerKey,
    an uncompressed P-256 point), the private one as its 32 raw bytes."""
    vapid = Vapid02()
    vapid.generate_keys()
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return b64urlencode(public), b64urlencode(private)


class Command(BaseCommand):
    help = "Print a new VAPID key pair for web push, as VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY lines."

    def handle(self, *args: Any, **options: Any) -> None:
        public, private = new_keys()
        self.stdout.write(f"VAPID_PUBLIC_KEY={public}\nVAPID_PRIVATE_KEY={private}\n")
        self.stdout.write("VAPID_SUBJECT=mailto:you@example.org  # a contact for push services\n")
