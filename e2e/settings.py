"""The shared e2e server's settings: production settings with one cheaper password hash.

The browser suite and the API fuzzer sign in, register and change passwords hundreds of times
against one live server; at Django's default PBKDF2 work factor each of those costs about half a
second of the two CPUs, which made the fuzzer alone take twelve minutes per database. The same
algorithm with fewer iterations keeps every code path (hashing, checking, upgrading on sign-in)
while the servers other files start for themselves (sign-in limits, the e-mail lifecycle,
scale-out) and the benches keep the production work factor.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher

from config.settings import *  # noqa: F403


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2-SHA256 at 1,000 iterations: for test servers only, never for real accounts."""

    algorithm = "pbkdf2_sha256_e2e"
    iterations = 1_000


PASSWORD_HASHERS = ["e2e.settings.QuickPBKDF2PasswordHasher"]
