"""A test SMTP server: writes each message it accepts to a directory, one JSON file each
(envelope, headers in order, the MIME type, and each leaf part decoded), parsed by Python's
`email` package so the tests read what a mail client would.

Usage: smtp_sink.py DIR [PORT [MODE]]   (PORT 0 or absent: a free one). Prints the port once
listening. Messages are written to a temporary name and renamed, so a reader never sees half a
file. MODE, for the tests that kill a sender mid-conversation:
- `stall-data`: each message is written as `NAME.stalled` (not `.json`: never accepted) and
  the answer to its DATA never comes;
- `stall-quit`: each message is accepted (`250`, written as usual), then the answer to the
  client's QUIT never comes.
SMTPUTF8 (RFC 6531) is offered, as real servers do, so that non-ASCII addresses go through.
"""
import asyncio
import email
import email.policy
import json
import os
import sys
import uuid

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory, mode):
        self.directory = directory
        self.mode = mode

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        msg = email.message_from_bytes(content, policy=email.policy.default)
        doc = {
            "envelope_from": envelope.mail_from,
            "envelope_to": list(envelope.rcpt_tos),
            "headers": [[k, str(v)] for k, v in msg.items()],
            "content_type": msg.get_content_type(),
            "parts": [
                {"content_type": p.get_content_type(), "body": p.get_content()}
                for p in msg.walk()
                if not p.is_multipart()
            ],
        }
        stall = self.mode == "stall-data"
        name = f"{uuid.uuid4().hex}.{'stalled' if stall else 'json'}"
        tmp = os.path.join(self.directory, "." + name)
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        os.rename(tmp, os.path.join(self.directory, name))
        if stall:
            await asyncio.sleep(3600)
        return "250 Message accepted"


class StallingQuit(SMTP):
    async def smtp_QUIT(self, arg):
        await asyncio.sleep(3600)


async def main():
    directory = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    mode = sys.argv[3] if len(sys.argv) > 3 else ""
    server_class = StallingQuit if mode == "stall-quit" else SMTP
    os.makedirs(directory, exist_ok=True)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: server_class(Sink(directory, mode), hostname="sink.test", decode_data=False, enable_SMTPUTF8=True),
        "127.0.0.1",
        port,
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
