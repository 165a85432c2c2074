"""Who is calling: the JWT every CDS Hooks call carries (CDS Hooks 2.0 §Trusting CDS Clients), checked
step by step as docs/cds-hooks.md ("Security") lists them.

A refusal raises `CdsAuthFailed` with the reason, which goes to the log only: the client gets a
generic 401, so that an attacker learns nothing from it.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.conf import settings
from django.db import IntegrityError, transaction

from ..models import SUPPORTED_ALGS, CdsClient, CdsJti

logger = logging.getLogger("netcare.cds")

LEEWAY_SECONDS = 30
# NETcare's policy (the spec sets no maximum): a JWT lives five minutes at most, as SMART Backend
# Services and the public CDS Hooks sandbox issue them.
MAX_LIFETIME_SECONDS = 300
JWKS_CACHE_SECONDS = 3600
JWKS_REFRESH_SECONDS = 60  # at most one forced download a minute per jku, on an unknown kid
JWKS_MAX_BYTES = 100_000
PURGE_SHARE = 0.01
EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1"}
MIN_RSA_BITS = 2048


class CdsAuthFailed(Exception):
    """The call is refused (401); the message says why, for the log only."""


@dataclass
class JwtUse:
    """A verified JWT's id, to be remembered in the replay store (use_jti) once."""

    iss: str
    jti: str
    expires_at: datetime
    recorded: bool = False


def authenticate(authorization: str, *, audience: str) -> CdsClient:
    """The registered, enabled client whose valid, unreplayed JWT `authorization` carries, with
    `aud` = `audience` (CDS_HOOKS_BASE_URL + the path called)."""
    client, jwt_use = authenticate_deferred(authorization, audience=audience)
    use_jti(jwt_use)
    return client


def authenticate_deferred(authorization: str, *, audience: str) -> tuple[CdsClient, JwtUse]:
    """As authenticate, but the JWT id is only checked against the replay store, not yet stored: the
    caller stores it with use_jti, in the transaction that keeps the call's answer, so that a call
    commits once. A replay that races the first use is refused by the store's unique constraint."""
    token = _bearer(authorization)
    try:  # header and claims in one pass; they are trusted only once the signature is verified
        unverified_jwt = jwt.api_jwt.decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise CdsAuthFailed(f"malformed JWT ({type(exc).__name__})") from None
    header, unverified = unverified_jwt["header"], unverified_jwt["payload"]
    alg, kid = _check_header(header)
    client = _client(unverified.get("iss"))
    if alg not in client.allowed_algs:
        raise CdsAuthFailed(f"alg {alg} not allowed for {client.iss}")
    key = signing_key(client, kid=kid, jku=header.get("jku"), alg=alg)
    claims = _verified_claims(token, key, alg=alg, audience=audience, iss=client.iss)
    _check_policy(claims, client)
    jwt_use = JwtUse(client.iss, str(claims["jti"]), datetime.fromtimestamp(int(claims["exp"]), UTC))
    if CdsJti.objects.filter(iss=jwt_use.iss, jti=jwt_use.jti).exists():  # a cheap early refusal
        raise CdsAuthFailed("jti replayed")
    return client, jwt_use


def _bearer(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise CdsAuthFailed("no bearer token")
    return token.strip()


def _check_header(header: dict[str, Any]) -> tuple[str, str]:
    if header.get("typ") != "JWT":
        raise CdsAuthFailed("typ is not JWT")
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in SUPPORTED_ALGS:  # never "none", never an HMAC algorithm
        raise CdsAuthFailed(f"alg {alg!r} is not accepted")
    if not isinstance(kid, str) or not kid:
        raise CdsAuthFailed("no kid")
    return alg, kid


def _client(iss: Any) -> CdsClient:
    if not isinstance(iss, str) or not iss:
        raise CdsAuthFailed("no iss")
    client = CdsClient.objects.enabled().filter(iss=iss).first()
    if client is None:
        raise CdsAuthFailed(f"iss {iss!r} is not a registered, enabled client")
    return client


def _verified_claims(token: str, key: Any, *, alg: str, audience: str, iss: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[alg],
            audience=audience,
            issuer=iss,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )
    except jwt.PyJWTError as exc:
        raise CdsAuthFailed(f"JWT rejected: {type(exc).__name__}: {exc}") from None
    return claims


def _check_policy(claims: dict[str, Any], client: CdsClient) -> None:
    exp, iat, jti = claims["exp"], claims["iat"], claims["jti"]
    if not isinstance(iat, int | float) or not isinstance(exp, int | float):
        raise CdsAuthFailed("exp and iat must be numbers")
    if iat > time.time() + LEEWAY_SECONDS:
        raise CdsAuthFailed("iat is in the future")
    if exp - iat > MAX_LIFETIME_SECONDS:
        raise CdsAuthFailed(f"lifetime {exp - iat:.0f} s is over {MAX_LIFETIME_SECONDS} s")
    if not isinstance(jti, str) or not jti or len(jti) > 255:
        raise CdsAuthFailed("jti must be a non-empty string")
    if client.tenants and claims.get("tenant") not in client.tenants:
        raise CdsAuthFailed("tenant not allowed")


def use_jti(jwt_use: JwtUse) -> None:
    """Remember the JWT id; a second use is a replay. Rows a day past their expiry are purged (here
    now and then, and by manage.py cds_purge)."""
    if jwt_use.recorded:
        return
    now = datetime.now(UTC)
    try:
        with transaction.atomic():
            CdsJti.objects.create(iss=jwt_use.iss, jti=jwt_use.jti, expires_at=jwt_use.expires_at)
    except IntegrityError:
        raise CdsAuthFailed("jti replayed") from None
    jwt_use.recorded = True
    if random.random() < PURGE_SHARE:  # about one call in a hundred tidies up
        CdsJti.objects.filter(expires_at__lt=now - timedelta(days=1)).delete()


# --- keys ---------------------------------------------------------------------------------------------


def signing_key(client: CdsClient, *, kid: str, jku: Any, alg: str) -> Any:
    """The client's public key `kid`: from the JWK Set at `jku` if it is on the client's allowlist
    (never fetched otherwise), else from the JWK Set registered with the client."""
    if jku is not None:
        if not isinstance(jku, str) or jku not in client.jku_allowlist:
            raise CdsAuthFailed(f"jku {jku!r} is not on the allowlist of {client.iss}")
        key = _remote_keys.key(jku, kid)
    else:
        key = _registered_key(client, kid)
    if key is None:
        raise CdsAuthFailed(f"unknown kid {kid!r}")
    _check_key_type(key, alg)
    return key


_parsed_keys: dict[tuple[int, Any, str], Any] = {}
_parsed_keys_lock = threading.Lock()
MAX_PARSED_KEYS = 256


def _registered_key(client: CdsClient, kid: str) -> Any:
    """The client's registered key `kid`, parsed once per process: reading a JWK into a key object
    took a fifth of the authentication's time. The cache is keyed on the client's updated_at, which
    every change of its registration (new keys included) moves, so a rotation applies at once."""
    cache_key = (client.pk, client.updated_at, kid)
    key = _parsed_keys.get(cache_key)
    if key is None:
        key = _key_in(client.jwks, kid)
        if key is not None:
            with _parsed_keys_lock:
                if len(_parsed_keys) >= MAX_PARSED_KEYS:
                    _parsed_keys.clear()
                _parsed_keys[cache_key] = key
    return key


def _key_in(jwks: Any, kid: str) -> Any:
    if not isinstance(jwks, dict):
        return None
    for entry in jwks.get("keys", []):
        if isinstance(entry, dict) and entry.get("kid") == kid:
            try:
                return jwt.PyJWK(entry).key
            except jwt.PyJWTError:
                return None
    return None


def _check_key_type(key: Any, alg: str) -> None:
    if alg.startswith("ES"):
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != EC_CURVES[alg]:
            raise CdsAuthFailed(f"key does not fit {alg}")
    elif not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        raise CdsAuthFailed(f"key does not fit {alg} (RSA of {MIN_RSA_BITS} bits or more)")


@dataclass
class _Fetched:
    jwks: dict[str, Any]
    at: float


@dataclass
class _RemoteKeys:
    """JWK Sets downloaded from allowlisted jku URLs, kept an hour per process; an unknown kid
    forces one new download, at most once a minute."""

    sets: dict[str, _Fetched] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def key(self, jku: str, kid: str) -> Any:
        now = time.monotonic()
        fetched = self.sets.get(jku)
        if fetched is None or now - fetched.at > JWKS_CACHE_SECONDS:
            fetched = self._download(jku, now)
        key = _key_in(fetched.jwks, kid)
        if key is None and now - fetched.at > JWKS_REFRESH_SECONDS:
            key = _key_in(self._download(jku, now).jwks, kid)
        return key

    def _download(self, jku: str, now: float) -> _Fetched:
        if not (jku.startswith("https://") or settings.DEBUG):
            raise CdsAuthFailed("jku must be https")
        try:
            with urllib.request.urlopen(jku, timeout=settings.CDS_HOOKS_JWKS_TIMEOUT_SECONDS) as response:
                body = response.read(JWKS_MAX_BYTES + 1)
        except OSError as exc:
            raise CdsAuthFailed(f"JWK Set at {jku} unavailable: {type(exc).__name__}") from None
        try:
            jwks = json.loads(body) if len(body) <= JWKS_MAX_BYTES else {}
        except ValueError:
            jwks = {}
        fetched = _Fetched(jwks if isinstance(jwks, dict) else {}, now)
        with self.lock:
            self.sets[jku] = fetched
        return fetched

    def forget(self) -> None:
        with self.lock:
            self.sets.clear()


_remote_keys = _RemoteKeys()


def forget_remote_keys() -> None:
    """Drop the downloaded JWK Sets and the parsed registered keys (between tests, or after a
    client's keys were rotated)."""
    _remote_keys.forget()
    with _parsed_keys_lock:
        _parsed_keys.clear()
