"""A real SMTP server for Nova's tests (aiosmtpd): every message it accepts is written,
byte for byte as received, to its own file in a mailbox folder.

    python3 smtp_sink.py HOST PORT MAILBOX_DIR

Files are named <nanoseconds>-<sequence>.eml and appear atomically (written under a
temporary name, then renamed), so a test polling the folder never reads half a message.
"""

import itertools
import os
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Mailbox:
    def __init__(self, folder):
        self.folder = folder
        self.sequence = itertools.count()

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}-{next(self.sequence)}"
        temporary = os.path.join(self.folder, f".{name}.tmp")
        with open(temporary, "wb") as out:
            out.write(b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n")
            for rcpt in envelope.rcpt_tos:
                out.write(b"X-Envelope-To: " + rcpt.encode() + b"\r\n")
            out.write(envelope.original_content)
        os.rename(temporary, os.path.join(self.folder, f"{name}.eml"))
        return "250 Message accepted for delivery"


def main():
    host, port, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(folder, exist_ok=True)
    controller = Controller(Mailbox(folder), hostname=host, port=port)
    controller.start()
    print(f"smtp_sink: listening on {host}:{port}, writing to {folder}", flush=True)
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
