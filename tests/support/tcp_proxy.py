"""A loopback TCP proxy for fault injection: it can slow the bytes sent upstream (a slow
registry push) and be stopped outright, every connection cut (an endpoint that dies)."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress

CHUNK = 16 * 1024


class TcpProxy:
    """127.0.0.1:<port> → `upstream` (host, port). `rate` (bytes/s, None: unlimited) limits
    what clients send; `sent` counts it, `open` counts the connections clients hold open."""

    def __init__(self, upstream: tuple[str, int], *, rate: float | None = None) -> None:
        self.upstream = upstream
        self.rate = rate
        self.sent = 0
        self.open = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        self._stopped.set()
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # close() alone leaves accept() listening
        with suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with suppress(OSError):
                    sock.close()
            self._sockets.clear()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=10)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
                self.open += 1
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while True:
                size = CHUNK
                rate = self.rate if upstream else None
                if rate is not None:
                    size = max(1, min(CHUNK, int(rate / 10)))
                data = source.recv(size)
                if not data:
                    break
                sink.sendall(data)
                if upstream:
                    with self._lock:
                        self.sent += len(data)
                if rate is not None:
                    time.sleep(len(data) / rate)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            if upstream:
                with self._lock:
                    self.open -= 1
