"""Real network faults on 127.0.0.1 for the fault tests: a TCP proxy that can be stopped,
restarted on the same port, or made to swallow connections without answering.

Tests point a client (the PostgreSQL driver) at the proxy instead of the server, then
break the path between them. Nothing is mocked: the driver sees refused connections,
reset sockets and silent servers exactly as it would in production.
"""

from __future__ import annotations

import socket
import threading
from http.server import ThreadingHTTPServer


class QuietServer(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 for tests where the client hanging up is the point
    (a download that times out): it does not print the resulting broken pipe."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to ``target``; ``stop()`` cuts every connection.

    ``start("forward")`` relays bytes both ways; ``start("blackhole")`` accepts
    connections and never answers (a server that hangs); after ``stop()`` the port
    refuses connections (a server that is down).
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self, mode: str = "forward") -> None:
        assert mode in ("forward", "blackhole") and self._listener is None
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.05)
        self._listener = listener
        self._stopping.clear()
        self._spawn(self._accept_loop, listener, mode)

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._sockets.clear()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept_loop(self, listener: socket.socket, mode: str) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            self._track(client)
            if mode == "blackhole":
                continue  # hold the connection open and say nothing
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._track(upstream)
            self._spawn(self._pump, client, upstream)
            self._spawn(self._pump, upstream, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
            except OSError:
                break
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass
