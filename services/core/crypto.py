"""Secrets at rest (TOTP secrets, room URLs) and token signing keys.

Both keys are derived from the one ``VDI_SECRET_KEY`` so an operator manages a
single secret; rotating it invalidates logins and stored secrets together.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from services.core.settings import get_settings


def _derive(purpose: str, secret_key: str | None = None) -> bytes:
    secret = (secret_key or get_settings().secret_key).encode()
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive("fernet-v1", secret_key)))


def encrypt(plain: str) -> str:
    return _fernet(get_settings().secret_key).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(get_settings().secret_key).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("stored secret cannot be decrypted with the current VDI_SECRET_KEY") from exc


def jwt_key() -> bytes:
    return _derive("jwt-v1")


def token_digest(token: str) -> str:
    """One-way digest for bearer credentials stored for later comparison."""
    return hashlib.sha256(token.encode()).hexdigest()
