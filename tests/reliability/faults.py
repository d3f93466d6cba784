"""Fault injection for the reliability tests: a real HTTP server in a thread, a TCP proxy in front of it that
drops connections, and a client that retries until it gets an answer.

The proxy reads each request whole, then, at random: closes the client's connection before forwarding
(`dropped_before`), or forwards it, reads the server's whole answer — so the server has committed — and closes
the client's connection without relaying it (`dropped_after`), or relays the answer. Every request carries
``Connection: close``, so one connection is one request.
"""
from __future__ import annotations

import dataclasses
import http.client
import random
import socket
import threading

from werkzeug.serving import make_server


class Server:
    """The WSGI app on a real socket of 127.0.0.1, served by werkzeug's threaded server."""

    def __init__(self, app):
        self.http = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.http.server_port
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.http.shutdown()
        self.thread.join(10)


@dataclasses.dataclass
class Counts:
    requests: int = 0
    dropped_before: int = 0
    dropped_after: int = 0
    relayed: int = 0


def _read_request(connection: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head + b"\r\n\r\n" + body


def _read_all(connection: socket.socket) -> bytes:
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    return data


class FaultyProxy:
    def __init__(self, target_port: int, *, drop_before: float, drop_after: float, seed: int):
        self.target_port, self.drop_before, self.drop_after = target_port, drop_before, drop_after
        self.random, self.lock, self.counts = random.Random(seed), threading.Lock(), Counts()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc):
        self.stopping.set()
        self.listener.close()
        self.thread.join(10)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _fate(self) -> str:
        with self.lock:
            self.counts.requests += 1
            roll = self.random.random()
            fate = ("dropped_before" if roll < self.drop_before else
                    "dropped_after" if roll < self.drop_before + self.drop_after else "relayed")
            setattr(self.counts, fate, getattr(self.counts, fate) + 1)
            return fate

    def _handle(self, client: socket.socket) -> None:
        with client:
            request = _read_request(client)
            if request is None:
                return
            fate = self._fate()
            if fate == "dropped_before":
                return
            with socket.create_connection(("127.0.0.1", self.target_port), timeout=120) as upstream:
                upstream.sendall(request)
                answer = _read_all(upstream)      # the server has finished (and committed) by now
            if fate == "relayed":
                client.sendall(answer)


RETRIED_ERRORS = (ConnectionError, http.client.HTTPException, TimeoutError, OSError)


def send_until_answered(port: int, method: str, path: str, body: bytes, headers: dict,
                        max_attempts: int = 60) -> tuple[http.client.HTTPResponse, bytes, int] | None:
    """(response, body, attempts) once an answer arrives; None if none did within `max_attempts`."""
    for attempt in range(1, max_attempts + 1):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            connection.request(method, path, body=body, headers={**headers, "Connection": "close"})
            response = connection.getresponse()
            return response, response.read(), attempt
        except RETRIED_ERRORS:
            continue
        finally:
            connection.close()
    return None
