"""Loopback servers for delivery tests: a tiny SMTP server and an HTTP server, each on
127.0.0.1 in a thread of the test process (no outside network)."""

from __future__ import annotations

import http.server
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from carbon_market.kernel.db import make_session_factory


@dataclass
class Mailbox:
    host: str
    port: int
    #: Each delivered message: (MAIL FROM, [RCPT TO], the DATA text).
    messages: list[tuple[str, list[str], str]] = field(default_factory=list)


def _smtp_handler(box: Mailbox) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        """Just enough of RFC 5321 for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

        def reply(self, line: str) -> None:
            self.wfile.write(f"{line}\r\n".encode())

        def handle(self) -> None:
            sender, recipients = "", []
            self.reply("220 loopback ESMTP")
            while line := self.rfile.readline().decode().rstrip("\r\n"):
                verb = line[:4].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250 loopback")
                elif verb == "MAIL":
                    sender = line.split(":", 1)[1].strip(" <>")
                    self.reply("250 OK")
                elif verb == "RCPT":
                    recipients.append(line.split(":", 1)[1].strip(" <>"))
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 go ahead")
                    data = []
                    while (chunk := self.rfile.readline().decode()) not in (".\r\n", ""):
                        data.append(chunk)
                    box.messages.append((sender, recipients, "".join(data)))
                    sender, recipients = "", []
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 OK")

    return Handler


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), None)  # type: ignore[arg-type]
    box = Mailbox("127.0.0.1", server.server_address[1])
    server.RequestHandlerClass = _smtp_handler(box)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


@dataclass
class Hook:
    url: str
    #: Status the next requests get (set to 500 to make the webhook fail).
    status: int = 200
    bodies: list[bytes] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)


@pytest.fixture
def webhook_server() -> Iterator[Hook]:
    hook = Hook(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            hook.bodies.append(self.rfile.read(length))
            hook.content_types.append(self.headers.get("Content-Type", ""))
            self.send_response(hook.status)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()
    server.server_close()


@pytest.fixture
def sessions_with(app, clock, config):
    """``sessions_with(**config_overrides)``: a session factory on the test database whose
    configuration sets up the given delivery channels."""
    engine = app.extensions["carbon_market.engine"]

    def make(**overrides: Any):
        return make_session_factory(engine, clock, config.with_overrides(**overrides))

    return make
