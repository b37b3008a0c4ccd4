"""Checks that an incoming HTTP request really comes from Alexa.

Amazon requires every skill hosted as a web service to verify, for each request, the
signing certificate chain named by ``SignatureCertChainUrl``, the ``Signature-256`` over
the raw body, the request timestamp and (by policy) the skill's application id. A request
failing any check must be answered with HTTP 400 and must not reach a handler.

The official ``ask-sdk-webservice-support`` cannot be imported on OpenSSL 3.0.10+ (its
certvalidator -> oscrypto dependency fails to parse the library version), so this module
reimplements its checks on ``cryptography`` alone, whose ``x509.verification`` API builds
and validates chains against a trust store. Differences from the SDK, all deliberate: the
download has a timeout and a size cap, the certificate cache expires with the chain, a
failed download or verification is never cached, and every failure carries a short reason.

Every failure raises :class:`VerificationError`; its message is a short human reason that
is safe to log (it never contains user ids, tokens or body content).
"""

from __future__ import annotations

import base64
import binascii
import http.client
import logging
import posixpath
import re
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

import certifi
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.verification import PolicyBuilder, Store
from cryptography.x509.verification import VerificationError as ChainError

log = logging.getLogger(__name__)

SIGNATURE_CERT_CHAIN_URL_HEADER = "SignatureCertChainUrl"
SIGNATURE_HEADER = "Signature-256"

CERT_URL_SCHEME = "https"
CERT_URL_HOST = "s3.amazonaws.com"
CERT_URL_PORT = 443
CERT_URL_PATH_PREFIX = "/echo.api/"
SIGNING_CERT_SAN = "echo-api.amazon.com"

#: Alexa's limit for ordinary requests; skills allowing more cannot be certified.
NORMAL_REQUEST_TOLERANCE = timedelta(seconds=150)
#: Skill events (enable/disable, permission changes) may be delivered up to an hour late.
SKILL_EVENT_TOLERANCE = timedelta(seconds=3600)
SKILL_EVENT_PREFIX = "AlexaSkillEvent."

#: A real Alexa chain is about 5 KB; anything much bigger is not one.
MAX_CERT_CHAIN_BYTES = 64 * 1024
#: What the CA/Browser Forum requires and Amazon's signing certificates have.
MIN_RSA_BITS = 2048
#: Bounds memory if someone sends many URL spellings of the same (valid) chain.
MAX_CACHED_CHAINS = 32


class VerificationError(Exception):
    """A request failed verification; ``str(exc)`` is a short reason, safe to log."""


class CertificateFetcher(Protocol):
    """Downloads a PEM certificate chain; raises :class:`VerificationError` on failure."""

    def __call__(self, url: str, timeout: float) -> bytes: ...


# --------------------------------------------------------------------------- download


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: the URL was vetted, wherever a redirect points was not."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def fetch_over_https(url: str, timeout: float, *, context: ssl.SSLContext | None = None) -> bytes:
    """Download ``url`` within about ``timeout`` seconds and at most 64 KB.

    Alexa gives the skill 8 s for the whole answer, so a slow or hostile server must not
    hold a worker: ``timeout`` bounds connecting and each read, and a deadline bounds the
    total (a server trickling bytes would otherwise reset the per-read timeout forever).
    The TLS server certificate is verified (certifi roots unless ``context`` is given).
    Only http(s) is accepted here so urllib's ``file:``/``ftp:`` handlers are unreachable;
    the https-only rule for Alexa lives in :func:`check_cert_url`, which runs first.
    """
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise VerificationError("could not download the signing certificate: unsupported URL")
    if context is None:
        context = ssl.create_default_context(cafile=certifi.where())
    opener = urllib.request.build_opener(
        _NoRedirect(), urllib.request.HTTPSHandler(context=context)
    )
    deadline = time.monotonic() + timeout
    try:
        with opener.open(url, timeout=timeout) as response:
            if response.status != 200:
                raise VerificationError(
                    f"could not download the signing certificate: HTTP {response.status}"
                )
            return _read_capped(response, deadline)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise VerificationError(
            f"could not download the signing certificate: HTTP {exc.code}"
        ) from None
    except TimeoutError:
        raise VerificationError("could not download the signing certificate: timed out") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise VerificationError(
                "could not download the signing certificate: timed out"
            ) from None
        raise VerificationError("could not download the signing certificate") from exc
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise VerificationError("could not download the signing certificate") from exc


def _read_capped(response: http.client.HTTPResponse, deadline: float) -> bytes:
    """Read the body in small reads, stopping at the size cap or the deadline."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > MAX_CERT_CHAIN_BYTES:
        raise VerificationError("could not download the signing certificate: too large")
    chunks: list[bytes] = []
    size = 0
    while True:
        # read1 returns after one socket read, so the deadline is checked between reads.
        chunk = response.read1(8192)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_CERT_CHAIN_BYTES:
            raise VerificationError("could not download the signing certificate: too large")
        if time.monotonic() > deadline:
            raise VerificationError("could not download the signing certificate: timed out")
        chunks.append(chunk)


# --------------------------------------------------------------------------- certificate URL


def check_cert_url(url: str) -> None:
    """Reject a ``SignatureCertChainUrl`` that is not under Amazon's echo.api bucket.

    This runs before any download so that an attacker cannot make the skill fetch from a
    host of their choosing. The path is normalised with :func:`posixpath.normpath` (URL
    paths are POSIX-style on every OS; ``os.path`` would use backslashes on Windows)
    *before* the prefix test, because ``/echo.api/../evil/cert`` starts with the prefix
    yet the server resolves it outside the bucket. Percent-decoded dot segments get the
    same test, since some servers decode ``%2e%2e`` before resolving.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise VerificationError("certificate URL is malformed") from None
    if parts.scheme.lower() != CERT_URL_SCHEME:
        raise VerificationError("certificate URL scheme is not https")
    if "@" in parts.netloc:
        raise VerificationError("certificate URL must not contain user info")
    if (parts.hostname or "").lower() != CERT_URL_HOST:
        raise VerificationError("certificate URL host is not s3.amazonaws.com")
    if port not in (None, CERT_URL_PORT):
        raise VerificationError("certificate URL port is not 443")
    if not _path_in_bucket(parts.path):
        raise VerificationError("certificate URL path is not under /echo.api/")


def _path_in_bucket(path: str) -> bool:
    candidates = {path, urllib.parse.unquote(path)}
    return all(
        bool(p) and posixpath.normpath(p).startswith(CERT_URL_PATH_PREFIX) for p in candidates
    )


# --------------------------------------------------------------------------- chain


def _default_trust_store() -> Store:
    """Certifi's roots, read once per process on first use."""
    global _default_store
    with _default_store_lock:
        if _default_store is None:
            with open(certifi.where(), "rb") as bundle:
                _default_store = Store(load_trust_anchors(bundle.read()))
        return _default_store


_default_store: Store | None = None
_default_store_lock = threading.Lock()
_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def load_trust_anchors(bundle: bytes) -> list[x509.Certificate]:
    """Parse a root bundle certificate by certificate, skipping any that fail to load.

    Several roots in certifi (among them Starfield Services Root CA G2, once part of
    Amazon's chain) have serial number 0, which cryptography parses with a deprecation
    warning today and announces it will refuse later. Loading the bundle in one call would
    then fail as a whole and leave the skill trusting nothing, so each root is loaded on
    its own and its warning silenced (Amazon Root CA 1 itself is unaffected).
    """
    anchors = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        for block in _PEM_BLOCK.findall(bundle):
            try:
                anchors.append(x509.load_pem_x509_certificate(block))
            except ValueError:
                log.info("skipping a trust anchor that cryptography cannot parse")
    return anchors


def _parse_chain(pem: bytes) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise VerificationError("signing certificate chain is not valid PEM") from None
    if not certs:  # pragma: no cover - cryptography raises on input without certificates
        raise VerificationError("signing certificate chain is not valid PEM")
    return certs


def _check_leaf(leaf: x509.Certificate, now: datetime) -> None:
    """Own checks before chain building, so each failure gets its own reason."""
    if now < leaf.not_valid_before_utc:
        raise VerificationError("signing certificate is not yet valid")
    if now > leaf.not_valid_after_utc:
        raise VerificationError("signing certificate has expired")
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        san = None
    names = san.get_values_for_type(x509.DNSName) if san is not None else []
    if SIGNING_CERT_SAN not in [name.lower() for name in names]:
        raise VerificationError("signing certificate is not issued for echo-api.amazon.com")
    key = leaf.public_key()
    # The chain policy only checks the sizes of keys that sign certificates, never the
    # leaf's own key, which is the one that signs Alexa's requests.
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_RSA_BITS:
        raise VerificationError("signing certificate key is not RSA-2048 or stronger")


def _verify_chain(certs: list[x509.Certificate], store: Store, now: datetime) -> datetime:
    """Build a path to a trusted root; return when the first certificate on it expires.

    The Web-PKI server policy of ``cryptography`` is stricter than what the SDK checked
    (it wants X.509 v3, SHA-2 or ECDSA signatures, RSA >= 2048 for signing CAs, a
    critical basicConstraints and keyUsage keyCertSign on every CA *including the trust
    anchor*, an authorityKeyIdentifier on the leaf, serverAuth in the leaf's EKU when it
    has one). Amazon's echo-api certificates are ordinary public TLS certificates issued
    under Amazon Root CA 1, which meet all of it; it is the documented Web-PKI profile, so
    we use it as is rather than loosen it with custom extension policies.
    """
    leaf, intermediates = certs[0], certs[1:]
    verifier = (
        PolicyBuilder().store(store).time(now).build_server_verifier(x509.DNSName(SIGNING_CERT_SAN))
    )
    try:
        chain = verifier.verify(leaf, intermediates)
    except ChainError as exc:
        log.warning("signing certificate chain rejected: %s", exc)
        raise VerificationError("signing certificate chain is not trusted") from None
    return min(cert.not_valid_after_utc for cert in chain)


@dataclass(frozen=True)
class _CachedChain:
    leaf: x509.Certificate
    expires: datetime


# --------------------------------------------------------------------------- timestamp


def _parse_timestamp(value: Any) -> datetime:
    """ISO-8601 (``Z`` or an offset; naive means UTC) or integer epoch milliseconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise VerificationError("request timestamp is not a valid time") from None
    if not isinstance(value, str):
        raise VerificationError("request timestamp is not a valid time")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise VerificationError("request timestamp is not a valid time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _dig(obj: Any, *keys: str) -> Any:
    """``obj[k1][k2]...`` or None when any level is missing or not a dict."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


# --------------------------------------------------------------------------- envelope shape


def looks_like_envelope(obj: Any) -> str | None:
    """Return why ``obj`` (parsed JSON) is not an Alexa request envelope, or None.

    The web layer answers 400 with this reason instead of letting the SDK's deserializer
    fail later with a 500.
    """
    if not isinstance(obj, dict):
        return "request body is not a JSON object"
    if not isinstance(obj.get("version"), str):
        return "envelope has no version"
    request = obj.get("request")
    if not isinstance(request, dict):
        return "envelope has no request object"
    if not isinstance(request.get("type"), str) or not request["type"]:
        return "request has no type"
    if not isinstance(request.get("requestId"), str):
        return "request has no requestId"
    if not isinstance(obj.get("context"), dict):
        return "envelope has no context object"
    if not isinstance(obj["context"].get("System"), dict):
        return "envelope has no context.System object"
    if "session" in obj and not isinstance(obj["session"], dict):
        return "envelope session is not an object"
    return None


# --------------------------------------------------------------------------- verifier


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _header(headers: Mapping[str, str], name: str) -> str:
    """Case-insensitive header lookup (proxies and test clients change the case)."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return (value or "").strip()
    return ""


class RequestVerifier:
    """Runs all of Alexa's request checks; one instance per app, safe across threads.

    ``check_signature``/``check_timestamp`` exist for local development only; the
    application-id check runs whenever ``skill_id`` is set, whatever the other flags.
    ``clock`` must return an aware datetime (tests move it to exercise expiry).
    """

    def __init__(
        self,
        skill_id: str | None,
        *,
        trust_store: Store | None = None,
        fetcher: CertificateFetcher = fetch_over_https,
        fetch_timeout: float = 2.0,
        check_signature: bool = True,
        check_timestamp: bool = True,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.skill_id = skill_id
        self._trust_store = trust_store
        self._fetcher = fetcher
        self._fetch_timeout = fetch_timeout
        self.check_signature = check_signature
        self.check_timestamp = check_timestamp
        self._clock = clock
        self._cache: dict[str, _CachedChain] = {}
        self._lock = threading.Lock()

    def verify(self, headers: Mapping[str, str], body: bytes, envelope: dict) -> None:
        """Raise :class:`VerificationError` unless the request passes every check.

        ``body`` must be the exact bytes received: the signature covers them, and
        re-serialising ``envelope`` would change spacing, key order or escaping.
        """
        now = self._clock()
        if self.check_signature:
            self._verify_signature(headers, body, now)
        if self.check_timestamp:
            self._verify_timestamp(envelope, now)
        if self.skill_id:
            self._verify_application_id(envelope)

    # -- signature ---------------------------------------------------------------------

    def _verify_signature(self, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
        url = _header(headers, SIGNATURE_CERT_CHAIN_URL_HEADER)
        if not url:
            raise VerificationError("missing SignatureCertChainUrl header")
        signature_b64 = _header(headers, SIGNATURE_HEADER)
        if not signature_b64:
            raise VerificationError("missing Signature-256 header")
        check_cert_url(url)
        leaf = self._signing_certificate(url, now)
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except (binascii.Error, ValueError):
            raise VerificationError("Signature-256 header is not valid base64") from None
        public_key = cast(rsa.RSAPublicKey, leaf.public_key())  # checked in _check_leaf
        try:
            public_key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise VerificationError("request signature does not match the body") from None

    def _signing_certificate(self, url: str, now: datetime) -> x509.Certificate:
        """The verified leaf for ``url``, from the cache while the whole chain is valid.

        Only a fully verified chain is stored, so a failed download or a bad chain is
        retried on the next request. Two threads missing together may both download;
        that is harmless and keeps the lock out of network calls.
        """
        with self._lock:
            cached = self._cache.get(url)
            if cached is not None and now >= cached.expires:
                del self._cache[url]
                cached = None
        if cached is not None:
            return cached.leaf
        pem = self._download(url)
        certs = _parse_chain(pem)
        _check_leaf(certs[0], now)
        expires = _verify_chain(certs, self._store(), now)
        with self._lock:
            self._remember(url, _CachedChain(certs[0], expires), now)
        return certs[0]

    def _download(self, url: str) -> bytes:
        try:
            return self._fetcher(url, self._fetch_timeout)
        except VerificationError as exc:
            log.warning("certificate download from %s failed: %s", CERT_URL_HOST, exc)
            raise
        except Exception:  # a custom fetcher's own errors still mean "no certificate"
            log.warning("certificate download from %s failed", CERT_URL_HOST, exc_info=True)
            raise VerificationError("could not download the signing certificate") from None

    def _remember(self, url: str, entry: _CachedChain, now: datetime) -> None:
        """Store under the lock, dropping expired entries, then the oldest, when full."""
        if len(self._cache) >= MAX_CACHED_CHAINS:
            for key in [k for k, v in self._cache.items() if now >= v.expires]:
                del self._cache[key]
        while len(self._cache) >= MAX_CACHED_CHAINS:
            del self._cache[next(iter(self._cache))]
        self._cache[url] = entry

    def _store(self) -> Store:
        if self._trust_store is None:
            self._trust_store = _default_trust_store()
        return self._trust_store

    # -- timestamp ---------------------------------------------------------------------

    @staticmethod
    def _verify_timestamp(envelope: dict, now: datetime) -> None:
        """Replay protection: a captured request is only usable for a short while."""
        raw = _dig(envelope, "request", "timestamp")
        if raw is None or raw == "":
            raise VerificationError("request timestamp is missing")
        stamp = _parse_timestamp(raw)
        request_type = _dig(envelope, "request", "type")
        is_event = isinstance(request_type, str) and request_type.startswith(SKILL_EVENT_PREFIX)
        tolerance = SKILL_EVENT_TOLERANCE if is_event else NORMAL_REQUEST_TOLERANCE
        if now - stamp > tolerance:
            raise VerificationError("request timestamp is too old")
        if stamp - now > tolerance:
            raise VerificationError("request timestamp is in the future")

    # -- application id ----------------------------------------------------------------

    def _verify_application_id(self, envelope: dict) -> None:
        """Another skill's requests signed by Alexa are still not meant for us."""
        app_id = _dig(envelope, "context", "System", "application", "applicationId")
        if not app_id:
            raise VerificationError("request has no application id")
        if app_id != self.skill_id:
            raise VerificationError("application id does not match this skill")
        session = _dig(envelope, "session")
        if session is not None:
            session_app_id = _dig(session, "application", "applicationId")
            if session_app_id != self.skill_id:
                raise VerificationError("session application id does not match this skill")
