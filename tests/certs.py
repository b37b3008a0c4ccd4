"""A throwaway PKI for verification tests: root CA -> intermediate -> echo-api leaf.

Keys are 2048-bit RSA (the Web-PKI policy of ``cryptography`` rejects smaller ones) and
are generated once per test session by :func:`pki`. Every certificate carries what that
policy demands, so a rejection in a test is caused by the one thing the test changed:

* CA certificates: X.509 v3, critical basicConstraints cA=TRUE, keyUsage keyCertSign,
  subjectKeyIdentifier, and (below the root) an authorityKeyIdentifier holding only a
  keyIdentifier (issuer+serial forms are refused).
* Leaf: basicConstraints cA=FALSE, keyUsage without keyCertSign, extendedKeyUsage with
  serverAuth (non-critical), a subjectAltName (non-critical while the subject is set) and
  an authorityKeyIdentifier, which the policy requires on end-entity certificates.
* Signatures: RSA PKCS#1 v1.5 with SHA-256 (SHA-1 is refused).

Validity is relative to the wall clock at import, so the same leaf also works for a real
TLS handshake (see :attr:`TestPKI.localhost`); tests pass ``clock=lambda: pki().now``.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ECHO_API = "echo-api.amazon.com"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Issued:
    """A certificate and the private key of its subject."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )


@functools.cache
def _key(slot: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """One key per role per session: generating RSA keys is the slow part."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Breathing Room Test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(
    subject: str,
    key: rsa.RSAPrivateKey,
    issuer: Issued | None,
    not_before: datetime,
    not_after: datetime,
) -> x509.CertificateBuilder:
    issuer_name = issuer.cert.subject if issuer else _name(subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if issuer is not None:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key())
        builder = builder.add_extension(aki, critical=False)
    return builder


def make_ca(
    name: str,
    *,
    issuer: Issued | None = None,
    not_before: datetime,
    not_after: datetime,
    key_slot: str | None = None,
) -> Issued:
    """A root (``issuer=None``, self-signed) or an intermediate CA."""
    key = _key(key_slot or name)
    cert = (
        _builder(name, key, issuer, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign((issuer.key if issuer else key), hashes.SHA256())
    )
    return Issued(cert, key)


def make_leaf(
    issuer: Issued,
    *,
    not_before: datetime,
    not_after: datetime,
    dns_names: tuple[str, ...] = (ECHO_API,),
    ip_addresses: tuple[str, ...] = (),
    key_slot: str = "leaf",
    key_bits: int = 2048,
    common_name: str = ECHO_API,
) -> Issued:
    """An end-entity certificate shaped like Amazon's echo-api signing certificate."""
    key = _key(key_slot, key_bits)
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    builder = (
        _builder(common_name, key, issuer, not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def pem_chain(*issued: Issued) -> bytes:
    """Concatenate PEMs in the order Amazon serves them: leaf first."""
    return b"".join(i.pem for i in issued)


def sign_body(key: rsa.RSAPrivateKey, body: bytes) -> str:
    """The ``Signature-256`` header value Alexa would send for ``body``."""
    signature = key.sign(body, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


@dataclass(frozen=True)
class TestPKI:
    """Everything the tests need, built once; ``now`` is the moment tests pretend it is."""

    __test__ = False  # not a pytest test class, despite the name

    now: datetime
    root: Issued
    intermediate: Issued
    leaf: Issued
    expired_leaf: Issued
    future_leaf: Issued
    wrong_san_leaf: Issued
    no_san_leaf: Issued
    client_only_leaf: Issued
    weak_leaf: Issued
    short_intermediate: Issued
    leaf_under_short: Issued
    other_root: Issued
    other_intermediate: Issued
    untrusted_leaf: Issued
    localhost: Issued
    other_key: rsa.RSAPrivateKey

    @property
    def chain(self) -> bytes:
        """The good chain: leaf, intermediate (the root stays in the trust store)."""
        return pem_chain(self.leaf, self.intermediate)


def _client_only_leaf(issuer: Issued, now: datetime) -> Issued:
    """A leaf whose EKU lacks serverAuth: the Web-PKI server policy must refuse it."""
    key = _key("leaf")
    cert = (
        _builder(ECHO_API, key, issuer, now - DAY, now + 30 * DAY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(ECHO_API)]), False)
        .sign(issuer.key, hashes.SHA256())
    )
    return Issued(cert, key)


@functools.cache
def pki() -> TestPKI:
    now = datetime.now(UTC).replace(microsecond=0)
    root = make_ca("Test Root CA", not_before=now - 365 * DAY, not_after=now + 3650 * DAY)
    inter = make_ca(
        "Test Server CA", issuer=root, not_before=now - 365 * DAY, not_after=now + 365 * DAY
    )
    short = make_ca(
        "Test Short-lived CA",
        issuer=root,
        not_before=now - DAY,
        not_after=now + 10 * DAY,
        key_slot="Test Server CA",
    )
    other_root = make_ca("Other Root CA", not_before=now - DAY, not_after=now + 3650 * DAY)
    other_inter = make_ca(
        "Other Server CA", issuer=other_root, not_before=now - DAY, not_after=now + 365 * DAY
    )
    return TestPKI(
        now=now,
        root=root,
        intermediate=inter,
        leaf=make_leaf(inter, not_before=now - DAY, not_after=now + 30 * DAY),
        expired_leaf=make_leaf(inter, not_before=now - 60 * DAY, not_after=now - DAY),
        future_leaf=make_leaf(inter, not_before=now + DAY, not_after=now + 60 * DAY),
        wrong_san_leaf=make_leaf(
            inter, not_before=now - DAY, not_after=now + 30 * DAY, dns_names=("evil.example",)
        ),
        no_san_leaf=make_leaf(inter, not_before=now - DAY, not_after=now + 30 * DAY, dns_names=()),
        client_only_leaf=_client_only_leaf(inter, now),
        # The chain policy checks RSA sizes of *issuers* only; a 1024-bit leaf passes it.
        weak_leaf=make_leaf(
            inter, not_before=now - DAY, not_after=now + 30 * DAY, key_slot="weak", key_bits=1024
        ),
        short_intermediate=short,
        leaf_under_short=make_leaf(short, not_before=now - DAY, not_after=now + 30 * DAY),
        other_root=other_root,
        other_intermediate=other_inter,
        untrusted_leaf=make_leaf(
            other_inter, not_before=now - DAY, not_after=now + 30 * DAY, key_slot="other leaf"
        ),
        localhost=make_leaf(
            inter,
            not_before=now - DAY,
            not_after=now + 30 * DAY,
            dns_names=("localhost",),
            ip_addresses=("127.0.0.1",),
            key_slot="localhost",
            common_name="localhost",
        ),
        other_key=_key("other"),
    )
