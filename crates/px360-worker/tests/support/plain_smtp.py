"""Loopback SMTP server (aiosmtpd, no TLS) for the notification email tests.

Usage: plain_smtp.py OUTDIR. Prints PORT=<n> once ready; writes each message to OUTDIR/NNNN.json
as {"rcpt": [...], "subject": ..., "text": ..., "message_id": ...} with the subject and the text
part decoded (so a test can read the Arabic). Stops at EOF on stdin.
"""
import email
import email.policy
import json
import os
import socket
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        out = {
            "rcpt": list(envelope.rcpt_tos),
            "subject": str(msg["subject"]),
            "text": body.get_content() if body is not None else "",
            "message_id": str(msg["message-id"]),
        }
        path = os.path.join(self.outdir, "%04d.json" % self.count)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(out, f, ensure_ascii=False)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 Ok: queued"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    outdir = sys.argv[1]
    port = free_port()
    controller = Controller(Handler(outdir), hostname="127.0.0.1", port=port)
    controller.start()
    print("PORT=%d" % port, flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
