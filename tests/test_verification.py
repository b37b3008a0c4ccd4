"""Alexa request verification: every rule, each rejection with its reason, no network.

Unit tests feed chains through an in-memory fetcher that counts its calls; the real
``fetch_over_https`` is exercised against HTTP(S) servers on 127.0.0.1 started here.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import certifi
import pytest
from cryptography.x509.verification import Store

from skill.verification import (
    MAX_CACHED_CHAINS,
    MAX_CERT_CHAIN_BYTES,
    RequestVerifier,
    VerificationError,
    check_cert_url,
    fetch_over_https,
    load_trust_anchors,
    looks_like_envelope,
)
from tests.certs import TestPKI, pem_chain, pki, sign_body
from tests.netfaults import QuietServer

SKILL_ID = "amzn1.ask.skill.11111111-2222-3333-4444-555555555555"
OTHER_SKILL_ID = "amzn1.ask.skill.99999999-8888-7777-6666-555555555555"
GOOD_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-12.pem"
NOW = pki().now
SEC = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
PLUS_TWO = timezone(timedelta(hours=2))


# --------------------------------------------------------------------------- helpers


class FakeFetcher:
    """Serves scripted answers in turn (the last one repeats) and records every call."""

    def __init__(self, *answers: bytes | Exception) -> None:
        self.answers = answers
        self.calls: list[tuple[str, float]] = []

    def __call__(self, url: str, timeout: float) -> bytes:
        self.calls.append((url, timeout))
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def count(self) -> int:
        return len(self.calls)

    def count_for(self, url: str) -> int:
        return sum(1 for called, _ in self.calls if called == url)


class Clock:
    """A settable clock; tests move it to expire certificates and cache entries."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def iso(moment: datetime) -> str:
    """Alexa's own format, e.g. ``2015-05-13T12:34:56Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_envelope(
    *,
    timestamp: object = None,
    request_type: str = "LaunchRequest",
    app_id: str | None = SKILL_ID,
    session_app_id: str | None = SKILL_ID,
    with_session: bool = True,
) -> dict:
    application = {} if app_id is None else {"applicationId": app_id}
    envelope: dict = {
        "version": "1.0",
        "context": {
            "System": {
                "application": application,
                "user": {"userId": "amzn1.ask.account.TESTUSER"},
                "apiAccessToken": "secret-token",
            }
        },
        "request": {
            "type": request_type,
            "requestId": "amzn1.echo-api.request.0001",
            "timestamp": iso(NOW) if timestamp is None else timestamp,
            "locale": "en-US",
        },
    }
    if with_session:
        envelope["session"] = {
            "new": True,
            "sessionId": "amzn1.echo-api.session.0001",
            "application": {"applicationId": session_app_id},
        }
    return envelope


@dataclass
class SignedRequest:
    headers: dict[str, str]
    body: bytes
    envelope: dict


def signed(envelope: dict | None = None, *, url: str = GOOD_URL, key=None) -> SignedRequest:
    """A request as Alexa sends it: JSON bytes plus headers signing exactly those bytes."""
    envelope = make_envelope() if envelope is None else envelope
    body = json.dumps(envelope).encode("utf-8")
    signature = sign_body(key or pki().leaf.key, body)
    return SignedRequest({"SignatureCertChainUrl": url, "Signature-256": signature}, body, envelope)


def make_verifier(
    fetcher: FakeFetcher | None = None,
    clock: Clock | None = None,
    *,
    skill_id: str | None = SKILL_ID,
    **options,
) -> RequestVerifier:
    options.setdefault("trust_store", Store([pki().root.cert]))
    return RequestVerifier(
        skill_id, fetcher=fetcher or FakeFetcher(pki().chain), clock=clock or Clock(), **options
    )


def verify(verifier: RequestVerifier, request: SignedRequest) -> None:
    verifier.verify(request.headers, request.body, request.envelope)


def rejection(verifier: RequestVerifier, request: SignedRequest) -> str:
    with pytest.raises(VerificationError) as caught:
        verify(verifier, request)
    return str(caught.value)


# --------------------------------------------------------------------------- accepted


def test_good_request_passes_and_downloads_once_with_configured_timeout() -> None:
    fetcher = FakeFetcher(pki().chain)
    verify(make_verifier(fetcher, fetch_timeout=1.5), signed())
    assert fetcher.calls == [(GOOD_URL, 1.5)]


@pytest.mark.parametrize(
    "url",
    [
        "https://s3.amazonaws.com/echo.api/cert",
        "https://s3.amazonaws.com:443/echo.api/cert",
        "https://s3.amazonaws.com/echo.api/../echo.api/cert",
        "HTTPS://S3.AMAZONAWS.COM/echo.api/cert",
    ],
)
def test_sdk_valid_url_vectors_pass(url: str) -> None:
    check_cert_url(url)
    verify(make_verifier(), signed(url=url))


def test_header_names_are_case_insensitive() -> None:
    request = signed()
    request.headers = {name.lower(): value for name, value in request.headers.items()}
    verify(make_verifier(), request)


def test_signature_covers_raw_bytes_not_a_reserialisation() -> None:
    """Odd spacing and key order still verify because the body is never re-encoded."""
    text = (
        '{ "version" :"1.0",\n "request": {"timestamp": "TS", "type":"LaunchRequest",'
        ' "requestId":"r1"},\n "context":{"System":{"application":{"applicationId":"APP"}}}}'
    )
    body = text.replace("TS", iso(NOW)).replace("APP", SKILL_ID).encode("utf-8")
    envelope = json.loads(body)
    assert json.dumps(envelope).encode("utf-8") != body
    headers = {"SignatureCertChainUrl": GOOD_URL, "Signature-256": sign_body(pki().leaf.key, body)}
    make_verifier().verify(headers, body, envelope)


@pytest.mark.parametrize(
    ("timestamp", "request_type"),
    [
        pytest.param(iso(NOW - 150 * SEC), "IntentRequest", id="150s-old"),
        pytest.param(iso(NOW + 150 * SEC), "IntentRequest", id="150s-ahead"),
        pytest.param((NOW - 10 * SEC).isoformat(), "IntentRequest", id="offset-utc"),
        pytest.param(
            (NOW + 60 * SEC).astimezone(PLUS_TWO).isoformat(), "IntentRequest", id="offset-plus-two"
        ),
        pytest.param(int((NOW - 5 * SEC).timestamp() * 1000), "IntentRequest", id="epoch-ms"),
        pytest.param(iso(NOW - 30 * MINUTE), "AlexaSkillEvent.SkillEnabled", id="event-30min"),
        pytest.param(
            iso(NOW - 3600 * SEC), "AlexaSkillEvent.SkillPermissionAccepted", id="event-3600s"
        ),
    ],
)
def test_timestamps_within_tolerance_pass(timestamp: object, request_type: str) -> None:
    envelope = make_envelope(timestamp=timestamp, request_type=request_type, with_session=False)
    verify(make_verifier(), signed(envelope))


def test_same_age_fails_for_a_normal_request_but_not_for_a_skill_event() -> None:
    old = iso(NOW - 30 * MINUTE)
    event = make_envelope(
        timestamp=old, request_type="AlexaSkillEvent.SkillDisabled", with_session=False
    )
    verify(make_verifier(), signed(event))
    normal = make_envelope(timestamp=old, request_type="IntentRequest")
    assert rejection(make_verifier(), signed(normal)) == "request timestamp is too old"


def test_dev_mode_skips_signature_and_timestamp_but_not_application_id() -> None:
    fetcher = FakeFetcher(b"never used")
    stale = make_envelope(timestamp=iso(NOW - DAY))
    request = SignedRequest({}, json.dumps(stale).encode(), stale)
    dev = make_verifier(fetcher, check_signature=False, check_timestamp=False)
    verify(dev, request)
    assert fetcher.count == 0

    wrong = make_envelope(timestamp=iso(NOW - DAY), app_id=OTHER_SKILL_ID)
    request = SignedRequest({}, json.dumps(wrong).encode(), wrong)
    assert rejection(dev, request) == "application id does not match this skill"

    no_id = make_verifier(fetcher, skill_id=None, check_signature=False, check_timestamp=False)
    verify(no_id, request)


def test_without_a_skill_id_any_application_id_is_accepted() -> None:
    verify(make_verifier(skill_id=None), signed(make_envelope(app_id=OTHER_SKILL_ID)))


def test_concurrent_requests_all_pass() -> None:
    verifier = make_verifier()
    request = signed()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                verify(verifier, request)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


# --------------------------------------------------------------------------- rejections


def _with_headers(**changes: str | None) -> Callable[[SignedRequest], SignedRequest]:
    def change(request: SignedRequest) -> SignedRequest:
        for name, value in changes.items():
            header = name.replace("_", "-") if name == "Signature_256" else name
            if value is None:
                request.headers.pop(header)
            else:
                request.headers[header] = value
        return request

    return change


def _tamper(request: SignedRequest) -> SignedRequest:
    index = request.body.index(b"LaunchRequest")
    body = bytearray(request.body)
    body[index] = ord("X")
    return SignedRequest(request.headers, bytes(body), request.envelope)


REQUEST_REJECTIONS = [
    (
        "no-url-header",
        _with_headers(SignatureCertChainUrl=None),
        "missing SignatureCertChainUrl header",
    ),
    (
        "empty-url-header",
        _with_headers(SignatureCertChainUrl=""),
        "missing SignatureCertChainUrl header",
    ),
    ("no-signature-header", _with_headers(Signature_256=None), "missing Signature-256 header"),
    ("blank-signature-header", _with_headers(Signature_256="  "), "missing Signature-256 header"),
    (
        "signature-not-base64",
        _with_headers(Signature_256="not*base64!"),
        "Signature-256 header is not valid base64",
    ),
    (
        "signature-bad-padding",
        _with_headers(Signature_256="QUJ"),
        "Signature-256 header is not valid base64",
    ),
    ("tampered-body", _tamper, "request signature does not match the body"),
    (
        "signed-by-other-key",
        lambda _: signed(key=pki().other_key),
        "request signature does not match the body",
    ),
    (
        "signature-of-other-body",
        lambda r: SignedRequest(
            signed(make_envelope(with_session=False)).headers, r.body, r.envelope
        ),
        "request signature does not match the body",
    ),
    (
        "stale-151s",
        lambda _: signed(make_envelope(timestamp=iso(NOW - 151 * SEC))),
        "request timestamp is too old",
    ),
    (
        "future-151s",
        lambda _: signed(make_envelope(timestamp=iso(NOW + 151 * SEC))),
        "request timestamp is in the future",
    ),
    (
        "stale-epoch-ms",
        lambda _: signed(make_envelope(timestamp=int((NOW - 200 * SEC).timestamp() * 1000))),
        "request timestamp is too old",
    ),
    (
        "stale-skill-event-3601s",
        lambda _: signed(
            make_envelope(
                timestamp=iso(NOW - 3601 * SEC),
                with_session=False,
                request_type="AlexaSkillEvent.SkillDisabled",
            )
        ),
        "request timestamp is too old",
    ),
    (
        "future-skill-event-3601s",
        lambda _: signed(
            make_envelope(
                timestamp=iso(NOW + 3601 * SEC),
                with_session=False,
                request_type="AlexaSkillEvent.SkillEnabled",
            )
        ),
        "request timestamp is in the future",
    ),
    (
        "missing-timestamp",
        lambda _: signed(make_envelope(timestamp="")),
        "request timestamp is missing",
    ),
    (
        "garbage-timestamp",
        lambda _: signed(make_envelope(timestamp="yesterday-ish")),
        "request timestamp is not a valid time",
    ),
    (
        "bool-timestamp",
        lambda _: signed(make_envelope(timestamp=True)),
        "request timestamp is not a valid time",
    ),
    (
        "absurd-epoch-ms",
        lambda _: signed(make_envelope(timestamp=10**30)),
        "request timestamp is not a valid time",
    ),
    (
        "wrong-application-id",
        lambda _: signed(make_envelope(app_id=OTHER_SKILL_ID)),
        "application id does not match this skill",
    ),
    (
        "missing-application-id",
        lambda _: signed(make_envelope(app_id=None)),
        "request has no application id",
    ),
    (
        "wrong-session-application-id",
        lambda _: signed(make_envelope(session_app_id=OTHER_SKILL_ID)),
        "session application id does not match this skill",
    ),
    (
        "missing-session-application-id",
        lambda _: signed(make_envelope(session_app_id=None)),
        "session application id does not match this skill",
    ),
]


@pytest.mark.parametrize(
    ("change", "reason"),
    [pytest.param(change, reason, id=name) for name, change, reason in REQUEST_REJECTIONS],
)
def test_request_rejections(change: Callable[[SignedRequest], SignedRequest], reason: str) -> None:
    assert rejection(make_verifier(), change(signed())) == reason


def test_missing_timestamp_key_is_rejected() -> None:
    envelope = make_envelope()
    del envelope["request"]["timestamp"]
    assert rejection(make_verifier(), signed(envelope)) == "request timestamp is missing"


def test_checks_run_in_order_signature_before_timestamp_before_application_id() -> None:
    everything_wrong = make_envelope(timestamp=iso(NOW - DAY), app_id=OTHER_SKILL_ID)
    request = signed(everything_wrong, key=pki().other_key)
    assert rejection(make_verifier(), request) == "request signature does not match the body"
    assert rejection(make_verifier(), signed(everything_wrong)) == "request timestamp is too old"


URL_REJECTIONS = [
    # The SDK's own invalid vectors.
    ("https://very.bad/echo.api/cert", "certificate URL host is not s3.amazonaws.com"),
    ("https://s3.amazonaws.com:563/echo.api/cert", "certificate URL port is not 443"),
    ("https://s3.amazonaws.com/cert", "certificate URL path is not under /echo.api/"),
    ("https://s3.amazonaws.com/echo.api/../cert", "certificate URL path is not under /echo.api/"),
    ("https://s3.amazonaws.com/ECHO.API/cert", "certificate URL path is not under /echo.api/"),
    ("badUrl", "certificate URL scheme is not https"),
    ("http://s3.amazonaws.com/echo.api/cert", "certificate URL scheme is not https"),
    # Beyond the SDK.
    ("ftp://s3.amazonaws.com/echo.api/cert", "certificate URL scheme is not https"),
    ("https://evil@s3.amazonaws.com/echo.api/cert", "certificate URL must not contain user info"),
    (
        "https://s3.amazonaws.com:443@evil.example/echo.api/cert",
        "certificate URL must not contain user info",
    ),
    ("https://s3.amazonaws.com:abc/echo.api/cert", "certificate URL is malformed"),
    ("https://s3.amazonaws.com:99999/echo.api/cert", "certificate URL is malformed"),
    ("https://[::1/echo.api/cert", "certificate URL is malformed"),
    (
        "https://s3.amazonaws.com.evil.example/echo.api/cert",
        "certificate URL host is not s3.amazonaws.com",
    ),
    ("https:///echo.api/cert", "certificate URL host is not s3.amazonaws.com"),
    ("https://s3.amazonaws.com:80/echo.api/cert", "certificate URL port is not 443"),
    ("https://s3.amazonaws.com", "certificate URL path is not under /echo.api/"),
    ("https://s3.amazonaws.com/echo.api", "certificate URL path is not under /echo.api/"),
    (
        "https://s3.amazonaws.com/echo.api/%2e%2e/cert",
        "certificate URL path is not under /echo.api/",
    ),
    (
        "https://s3.amazonaws.com/echo.api/x/../../evil/cert",
        "certificate URL path is not under /echo.api/",
    ),
]


@pytest.mark.parametrize(("url", "reason"), URL_REJECTIONS, ids=[u for u, _ in URL_REJECTIONS])
def test_bad_certificate_urls_are_rejected_before_any_download(url: str, reason: str) -> None:
    fetcher = FakeFetcher(pki().chain)
    assert rejection(make_verifier(fetcher), signed(url=url)) == reason
    assert fetcher.count == 0


def _chain(attribute: str, *more: str) -> Callable[[TestPKI], bytes]:
    return lambda p: pem_chain(getattr(p, attribute), *(getattr(p, m) for m in more))


CHAIN_REJECTIONS = [
    ("expired-leaf", _chain("expired_leaf", "intermediate"), "signing certificate has expired"),
    (
        "not-yet-valid-leaf",
        _chain("future_leaf", "intermediate"),
        "signing certificate is not yet valid",
    ),
    (
        "wrong-san",
        _chain("wrong_san_leaf", "intermediate"),
        "signing certificate is not issued for echo-api.amazon.com",
    ),
    (
        "no-san",
        _chain("no_san_leaf", "intermediate"),
        "signing certificate is not issued for echo-api.amazon.com",
    ),
    (
        "weak-leaf-key",
        _chain("weak_leaf", "intermediate"),
        "signing certificate key is not RSA-2048 or stronger",
    ),
    (
        "untrusted-root",
        _chain("untrusted_leaf", "other_intermediate"),
        "signing certificate chain is not trusted",
    ),
    (
        "untrusted-root-sent-along",
        _chain("untrusted_leaf", "other_intermediate", "other_root"),
        "signing certificate chain is not trusted",
    ),
    ("intermediate-missing", _chain("leaf"), "signing certificate chain is not trusted"),
    (
        "leaf-without-serverauth",
        _chain("client_only_leaf", "intermediate"),
        "signing certificate chain is not trusted",
    ),
    (
        "garbage-pem",
        lambda p: b"<html>Access Denied</html>",
        "signing certificate chain is not valid PEM",
    ),
    ("empty-download", lambda p: b"", "signing certificate chain is not valid PEM"),
    ("truncated-pem", lambda p: p.chain[:400], "signing certificate chain is not valid PEM"),
    (
        "corrupted-pem",
        lambda p: p.chain.replace(
            b"-----BEGIN CERTIFICATE-----\nMII", b"-----BEGIN CERTIFICATE-----\nAAA", 1
        ),
        "signing certificate chain is not valid PEM",
    ),
]


@pytest.mark.parametrize(
    ("chain", "reason"),
    [pytest.param(chain, reason, id=name) for name, chain, reason in CHAIN_REJECTIONS],
)
def test_chain_rejections(chain: Callable[[TestPKI], bytes], reason: str) -> None:
    fetcher = FakeFetcher(chain(pki()))
    assert rejection(make_verifier(fetcher), signed()) == reason
    assert fetcher.count == 1


def test_default_trust_store_is_certifi_and_rejects_a_private_root() -> None:
    verifier = RequestVerifier(SKILL_ID, fetcher=FakeFetcher(pki().chain), clock=Clock())
    assert rejection(verifier, signed()) == "signing certificate chain is not trusted"


def test_certifi_bundle_loads_every_root_without_warnings() -> None:
    """Some certifi roots have serial 0 (a deprecation warning, an error under pytest)."""
    bundle = Path(certifi.where()).read_bytes()
    anchors = load_trust_anchors(bundle)
    assert len(anchors) == bundle.count(b"-----BEGIN CERTIFICATE-----")
    subjects = {anchor.subject.rfc4514_string() for anchor in anchors}
    assert "CN=Amazon Root CA 1,O=Amazon,C=US" in subjects


def test_load_trust_anchors_skips_what_cannot_be_parsed() -> None:
    broken = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    anchors = load_trust_anchors(pki().root.pem + broken + pki().other_root.pem)
    assert anchors == [pki().root.cert, pki().other_root.cert]


# --------------------------------------------------------------------------- cache


def test_cache_hit_downloads_once_for_two_requests() -> None:
    fetcher = FakeFetcher(pki().chain)
    verifier = make_verifier(fetcher)
    verify(verifier, signed())
    verify(verifier, signed(make_envelope(with_session=False)))
    assert fetcher.count == 1


def test_cache_is_per_url() -> None:
    fetcher = FakeFetcher(pki().chain)
    verifier = make_verifier(fetcher)
    verify(verifier, signed(url=GOOD_URL))
    verify(verifier, signed(url="https://s3.amazonaws.com/echo.api/other.pem"))
    assert fetcher.count == 2


def test_download_failure_is_not_cached() -> None:
    timed_out = VerificationError("could not download the signing certificate: timed out")
    fetcher = FakeFetcher(timed_out, pki().chain)
    verifier = make_verifier(fetcher)
    assert rejection(verifier, signed()) == (
        "could not download the signing certificate: timed out"
    )
    verify(verifier, signed())
    assert fetcher.count == 2


def test_unexpected_fetcher_error_becomes_a_download_reason_and_is_not_cached() -> None:
    fetcher = FakeFetcher(RuntimeError("socket exploded"), pki().chain)
    verifier = make_verifier(fetcher)
    assert rejection(verifier, signed()) == "could not download the signing certificate"
    verify(verifier, signed())
    assert fetcher.count == 2


def test_failed_chain_verification_is_not_cached() -> None:
    fetcher = FakeFetcher(b"garbage", pki().chain)
    verifier = make_verifier(fetcher)
    assert rejection(verifier, signed()) == "signing certificate chain is not valid PEM"
    verify(verifier, signed())
    assert fetcher.count == 2


def test_bad_signature_does_not_evict_a_good_chain() -> None:
    fetcher = FakeFetcher(pki().chain)
    verifier = make_verifier(fetcher)
    assert rejection(verifier, signed(key=pki().other_key)) == (
        "request signature does not match the body"
    )
    verify(verifier, signed())
    assert fetcher.count == 1


def test_cached_chain_expires_with_the_leaf_and_is_refetched() -> None:
    clock = Clock()
    fetcher = FakeFetcher(pki().chain)
    verifier = make_verifier(fetcher, clock)
    verify(verifier, signed())

    clock.now = pki().leaf.cert.not_valid_after_utc + SEC
    fresh = make_envelope(timestamp=iso(clock.now))
    assert rejection(verifier, signed(fresh)) == "signing certificate has expired"
    assert fetcher.count == 2


def test_cached_chain_expires_with_an_earlier_intermediate() -> None:
    p = pki()
    clock = Clock()
    fetcher = FakeFetcher(pem_chain(p.leaf_under_short, p.short_intermediate))
    verifier = make_verifier(fetcher, clock)
    verify(verifier, signed())

    clock.now = p.short_intermediate.cert.not_valid_after_utc - SEC
    verify(verifier, signed(make_envelope(timestamp=iso(clock.now))))
    assert fetcher.count == 1

    clock.now = p.short_intermediate.cert.not_valid_after_utc + SEC
    fresh = make_envelope(timestamp=iso(clock.now))
    assert rejection(verifier, signed(fresh)) == "signing certificate chain is not trusted"
    assert fetcher.count == 2


def test_cache_is_bounded_and_drops_the_oldest_url() -> None:
    fetcher = FakeFetcher(pki().chain)
    verifier = make_verifier(fetcher)
    urls = [f"https://s3.amazonaws.com/echo.api/{n}/../cert.pem" for n in range(MAX_CACHED_CHAINS)]
    for url in urls:
        verify(verifier, signed(url=url))
    verify(verifier, signed(url=urls[-1]))
    assert fetcher.count == MAX_CACHED_CHAINS

    verify(verifier, signed(url="https://s3.amazonaws.com/echo.api/one-more.pem"))
    verify(verifier, signed(url=urls[0]))
    assert fetcher.count_for(urls[0]) == 2
    verify(verifier, signed(url=urls[-1]))
    assert fetcher.count_for(urls[-1]) == 1


# --------------------------------------------------------------------------- envelope shape


ENVELOPE_SHAPES = [
    ("list", lambda e: [e], "request body is not a JSON object"),
    ("string", lambda e: "hello", "request body is not a JSON object"),
    (
        "no-version",
        lambda e: {k: v for k, v in e.items() if k != "version"},
        "envelope has no version",
    ),
    ("numeric-version", lambda e: {**e, "version": 1.0}, "envelope has no version"),
    (
        "no-request",
        lambda e: {k: v for k, v in e.items() if k != "request"},
        "envelope has no request object",
    ),
    ("request-list", lambda e: {**e, "request": []}, "envelope has no request object"),
    ("no-type", lambda e: {**e, "request": {"requestId": "r"}}, "request has no type"),
    (
        "empty-type",
        lambda e: {**e, "request": {"type": "", "requestId": "r"}},
        "request has no type",
    ),
    (
        "no-request-id",
        lambda e: {**e, "request": {"type": "LaunchRequest"}},
        "request has no requestId",
    ),
    (
        "no-context",
        lambda e: {k: v for k, v in e.items() if k != "context"},
        "envelope has no context object",
    ),
    ("no-system", lambda e: {**e, "context": {}}, "envelope has no context.System object"),
    (
        "system-string",
        lambda e: {**e, "context": {"System": "x"}},
        "envelope has no context.System object",
    ),
    ("session-list", lambda e: {**e, "session": []}, "envelope session is not an object"),
]


@pytest.mark.parametrize(
    ("change", "reason"),
    [pytest.param(change, reason, id=name) for name, change, reason in ENVELOPE_SHAPES],
)
def test_looks_like_envelope_names_what_is_wrong(change: Callable, reason: str) -> None:
    assert looks_like_envelope(change(make_envelope())) == reason


@pytest.mark.parametrize("with_session", [True, False])
def test_looks_like_envelope_accepts_real_envelopes(with_session: bool) -> None:
    assert looks_like_envelope(make_envelope(with_session=with_session)) is None


# --------------------------------------------------------------------------- real HTTP


@dataclass
class LocalServer:
    base: str
    hits: list[str]
    release: threading.Event


class _Handler(BaseHTTPRequestHandler):
    """Routes for the download tests; ``server.payload`` is the PEM chain to serve."""

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        release: threading.Event = self.server.release  # type: ignore[attr-defined]
        route = self.path.split("?")[0]
        if route.endswith("/chain.pem"):
            self._send(200, self.server.payload)  # type: ignore[attr-defined]
        elif route == "/missing":
            self._send(404, b"Not Found")
        elif route == "/no-content":
            self.send_response(204)
            self.end_headers()
        elif route == "/big-declared":
            self._send(200, b"A" * (MAX_CERT_CHAIN_BYTES + 1))
        elif route == "/big-undeclared":
            self.send_response(200)
            self.end_headers()  # HTTP/1.0: no Content-Length, body ends at close
            self.wfile.write(b"A" * (MAX_CERT_CHAIN_BYTES + 1))
        elif route == "/exact-limit":
            self._send(200, b"A" * MAX_CERT_CHAIN_BYTES)
        elif route == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/chain.pem")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif route == "/slow":
            release.wait(10)
            self._send(200, b"too late")
        elif route == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                if release.wait(0.05):
                    return
                self.wfile.write(b"A")
                self.wfile.flush()
        else:
            self._send(404, b"Not Found")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(tls: ssl.SSLContext | None = None) -> Iterator[LocalServer]:
    server = QuietServer(("127.0.0.1", 0), _Handler)
    server.hits = []  # type: ignore[attr-defined]
    server.release = threading.Event()  # type: ignore[attr-defined]
    server.payload = pki().chain  # type: ignore[attr-defined]
    scheme = "http"
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield LocalServer(f"{scheme}://{host}:{port}", server.hits, server.release)  # type: ignore[attr-defined]
    finally:
        server.release.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def http_server() -> Iterator[LocalServer]:
    yield from _serve()


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[LocalServer]:
    p = pki()
    cert_file = tmp_path / "localhost.pem"
    key_file = tmp_path / "localhost.key"
    cert_file.write_bytes(pem_chain(p.localhost, p.intermediate))
    key_file.write_bytes(p.localhost.key_pem())
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert_file, key_file)
    yield from _serve(tls)


def _client_trusting_test_root() -> ssl.SSLContext:
    return ssl.create_default_context(cadata=pki().root.pem.decode("ascii"))


def test_fetch_returns_the_served_chain(http_server: LocalServer) -> None:
    assert fetch_over_https(http_server.base + "/echo.api/chain.pem", 1.0) == pki().chain


def test_fetch_accepts_a_body_exactly_at_the_limit(http_server: LocalServer) -> None:
    body = fetch_over_https(http_server.base + "/exact-limit", 1.0)
    assert len(body) == MAX_CERT_CHAIN_BYTES


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing", "could not download the signing certificate: HTTP 404"),
        ("/no-content", "could not download the signing certificate: HTTP 204"),
        ("/big-declared", "could not download the signing certificate: too large"),
        ("/big-undeclared", "could not download the signing certificate: too large"),
        ("/redirect", "could not download the signing certificate: HTTP 302"),
        ("/slow", "could not download the signing certificate: timed out"),
        ("/trickle", "could not download the signing certificate: timed out"),
    ],
)
def test_fetch_failures(http_server: LocalServer, path: str, reason: str) -> None:
    with pytest.raises(VerificationError) as caught:
        fetch_over_https(http_server.base + path, 0.3)
    assert str(caught.value) == reason
    assert http_server.hits == [path]  # in particular: the redirect was not followed


def test_fetch_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(VerificationError) as caught:
        fetch_over_https(f"http://127.0.0.1:{port}/chain.pem", 0.3)
    assert str(caught.value) == "could not download the signing certificate"


@pytest.mark.parametrize("url", ["file:///etc/hostname", "ftp://127.0.0.1/chain.pem", "x"])
def test_fetch_refuses_non_http_schemes(url: str) -> None:
    with pytest.raises(VerificationError) as caught:
        fetch_over_https(url, 0.3)
    assert str(caught.value) == "could not download the signing certificate: unsupported URL"


def test_fetch_verifies_the_servers_tls_certificate(https_server: LocalServer) -> None:
    url = https_server.base + "/echo.api/chain.pem"
    with pytest.raises(VerificationError) as caught:
        fetch_over_https(url, 1.0)  # default context: certifi roots, test CA unknown
    assert str(caught.value) == "could not download the signing certificate"
    assert fetch_over_https(url, 1.0, context=_client_trusting_test_root()) == pki().chain


def test_verifier_with_real_https_download(https_server: LocalServer) -> None:
    """The whole path: URL rules, real TLS download, chain, cache, signature."""

    def to_local_server(url: str, timeout: float) -> bytes:
        path = urllib.parse.urlsplit(url).path
        return fetch_over_https(
            https_server.base + path, timeout, context=_client_trusting_test_root()
        )

    verifier = make_verifier(fetcher=to_local_server, fetch_timeout=1.0)  # type: ignore[arg-type]
    verify(verifier, signed(url="https://s3.amazonaws.com/echo.api/chain.pem"))
    verify(verifier, signed(url="https://s3.amazonaws.com/echo.api/chain.pem"))
    assert https_server.hits == ["/echo.api/chain.pem"]

    bad = signed(url="https://s3.amazonaws.com/echo.api/missing")
    assert rejection(verifier, bad) == "could not download the signing certificate: HTTP 404"
