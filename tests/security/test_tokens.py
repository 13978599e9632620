"""Tokens: what auth signs, the other services accept; anything else is refused."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from pydantic import SecretStr

from common.config import Settings
from common.secrets import read_or_create
from common.security import Principal, Role, TokenCodec


def codec(tmp_path, secret="s" * 40, minutes=60) -> TokenCodec:
    return TokenCodec(Settings(_env_file=None, var_dir=tmp_path, jwt_secret=SecretStr(secret), access_token_minutes=minutes))


def test_a_token_carries_who_and_which_role(tmp_path):
    token, lifetime = codec(tmp_path).issue(user_id=7, username="lucia", role=Role.VET)

    assert codec(tmp_path).verify(token) == Principal(id=7, username="lucia", role=Role.VET)
    assert lifetime == 3600


def test_a_token_signed_with_another_secret_is_refused(tmp_path):
    token, _ = codec(tmp_path, secret="x" * 40).issue(user_id=1, username="admin", role=Role.ADMIN)
    with pytest.raises(jwt.InvalidSignatureError):
        codec(tmp_path).verify(token)


def test_an_expired_token_is_refused(tmp_path):
    signer = codec(tmp_path)
    signer.lifetime = timedelta(seconds=-1)
    token, _ = signer.issue(user_id=1, username="admin", role=Role.ADMIN)
    with pytest.raises(jwt.ExpiredSignatureError):
        codec(tmp_path).verify(token)


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "1", "username": "a", "role": "superuser", "iss": "timon-auth", "exp": 4102444800},
        {"sub": "1", "username": "a", "role": "admin", "iss": "someone-else", "exp": 4102444800},
        {"sub": "one", "username": "a", "role": "admin", "iss": "timon-auth", "exp": 4102444800},
        {"sub": "1", "role": "admin", "iss": "timon-auth", "exp": 4102444800},
    ],
)
def test_tokens_with_bad_claims_are_refused(tmp_path, claims):
    token = jwt.encode(claims, "s" * 40, algorithm="HS256")
    with pytest.raises(jwt.InvalidTokenError):
        codec(tmp_path).verify(token)


def test_an_unsigned_token_is_refused(tmp_path):
    token = jwt.encode({"sub": "1", "username": "a", "role": "admin", "iss": "timon-auth", "exp": 4102444800}, None, algorithm="none")
    with pytest.raises(jwt.InvalidTokenError):
        codec(tmp_path).verify(token)


def test_without_a_configured_secret_one_is_generated_once_and_shared(tmp_path):
    first, created = read_or_create(tmp_path / "secrets", "jwt_secret")
    second, created_again = read_or_create(tmp_path / "secrets", "jwt_secret")

    assert created and not created_again
    assert first == second and len(first) >= 32
    assert (tmp_path / "secrets" / "jwt_secret").stat().st_mode & 0o777 == 0o600
    # every process pointed at the same var/ signs and verifies with it
    assert TokenCodec(Settings(_env_file=None, var_dir=tmp_path, jwt_secret=None)).secret == first


def test_a_token_seen_again_is_not_decoded_again_but_its_expiry_is_still_checked(tmp_path, monkeypatch):
    verifier = codec(tmp_path, minutes=1)
    token, _ = verifier.issue(user_id=3, username="marta", role=Role.STAFF)
    decoded = []
    real_decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *args, **kwargs: decoded.append(1) or real_decode(*args, **kwargs))

    for _ in range(5):  # a client polling its job
        assert verifier.verify(token) == Principal(id=3, username="marta", role=Role.STAFF)
    assert len(decoded) == 1
    with pytest.raises(jwt.InvalidSignatureError):  # a forged twin is checked, not matched loosely
        verifier.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))

    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(jwt.ExpiredSignatureError):  # the remembered token expires when its claim says
        verifier.verify(token)
