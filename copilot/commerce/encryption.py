"""Access tokens encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`).

`SHOPIFY_TOKEN_ENCRYPTION_KEY` holds one or more Fernet keys, comma-separated: the first encrypts,
every one decrypts, so a key can be rotated by putting the new key first, re-encrypting
(`manage.py shopify_tokens_reencrypt`), then removing the old one. Make a key with
`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.
"""

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class TokenDecryptionError(Exception):
    """A stored token cannot be read with any configured key."""


def configured_keys() -> tuple[str, ...]:
    return tuple(
        key.strip() for key in settings.SHOPIFY_TOKEN_ENCRYPTION_KEY.split(",") if key.strip()
    )


@functools.lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("SHOPIFY_TOKEN_ENCRYPTION_KEY is empty.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "SHOPIFY_TOKEN_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64-encoded bytes), "
            'e.g. from `python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"`.'
        ) from error


def token_encrypt(token: str) -> str:
    return _fernet(configured_keys()).encrypt(token.encode()).decode()


def token_decrypt(ciphertext: str) -> str:
    try:
        return _fernet(configured_keys()).decrypt(ciphertext.encode()).decode()
    except InvalidToken as error:
        raise TokenDecryptionError(
            "A stored Shopify token cannot be decrypted with SHOPIFY_TOKEN_ENCRYPTION_KEY "
            "(was a key removed before the tokens were re-encrypted?)."
        ) from error


def token_reencrypt(ciphertext: str) -> str:
    """The same token encrypted with the first (newest) key."""
    return _fernet(configured_keys()).rotate(ciphertext.encode()).decode()
