"""A stand-in for Google Translate's text-to-speech, reached the way gTTS reaches Google.

gTTS posts to ``https://translate.google.<tld>/_/TranslateWebserverUi/data/batchexecute``
through ``requests``, with the proxies from the environment (``urllib.request.getproxies``)
and without verifying certificates. That is the seam: the test sets ``https_proxy`` to this
server on 127.0.0.1, which accepts the CONNECT, speaks TLS with a throwaway certificate,
and answers in Google's ``batchexecute`` format with real MP3 bytes of the requested text
(espeak-ng + ffmpeg). gTTS, requests, urllib3 and our engine run exactly as in production;
only the far end differs. ``script`` queues HTTP statuses to answer first (e.g. 429).
"""

from __future__ import annotations

import base64
import datetime
import json
import socketserver
import ssl
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.audio.helpers import speak_mp3

PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy",
                   "NO_PROXY")


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "translate.google.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("translate.google.com")]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "google.pem", folder / "google.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def batchexecute(mp3: bytes) -> bytes:
    """Google's answer format, as gTTS parses it: a line with ``jQ1olc`` and base64 audio."""
    compact = {"separators": (",", ":")}
    inner = json.dumps([base64.b64encode(mp3).decode("ascii")], **compact)
    line = json.dumps([["wrb.fr", "jQ1olc", inner, None, None, None, "generic"]], **compact)
    return f")]}}'\n\n{len(line)}\n{line}\n".encode()


@dataclass
class Google:
    """What the stand-in saw, and what it will answer."""

    script: list[int] = field(default_factory=list)
    tunnels: list[str] = field(default_factory=list)  # CONNECT targets
    #: (host, text, lang, status) of every text-to-speech request
    requests: list[tuple[str, str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def texts(self, status: int = 200) -> list[str]:
        return [text for _, text, _, code in self.requests if code == status]


class _Api(BaseHTTPRequestHandler):
    google: Google

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        rpc = json.loads(urllib.parse.parse_qs(body)["f.req"][0])
        text, lang = json.loads(rpc[0][0][1])[:2]
        with self.google.lock:
            status = self.google.script.pop(0) if self.google.script else 200
            host = self.headers.get("Host", "")
            self.google.requests.append((host, text, lang, status))
        if self.path != "/_/TranslateWebserverUi/data/batchexecute":
            status = 404
        payload = batchexecute(speak_mp3(text)) if status == 200 else b"slow down"
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


class _Tunnel(socketserver.StreamRequestHandler):
    """An HTTP proxy that only tunnels (CONNECT), ending the tunnel in our own TLS."""

    def handle(self):
        request = self.rfile.readline().decode("latin-1").split()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        if len(request) != 3 or request[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        self.server.google.tunnels.append(request[1])
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        with self.server.tls.wrap_socket(self.connection, server_side=True) as tls:
            handler = type("Api", (_Api,), {"google": self.server.google})
            handler(tls, self.client_address, self.server)


class _Proxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class GoogleStandIn:
    """Context manager: a running stand-in; ``proxy`` is the URL for ``https_proxy``."""

    def __init__(self, folder: Path, script: list[int] | None = None) -> None:
        self.google = Google(script=list(script or []))
        cert, key = _certificate(folder)
        self.server = _Proxy(("127.0.0.1", 0), _Tunnel)
        self.server.google = self.google
        self.server.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server.tls.load_cert_chain(cert, key)
        self.proxy = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GoogleStandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def use_proxy(monkeypatch, url: str) -> None:
    """Send this process's HTTPS through ``url``, as a proxy set in the environment would."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("https_proxy", url)
    monkeypatch.setenv("HTTPS_PROXY", url)
