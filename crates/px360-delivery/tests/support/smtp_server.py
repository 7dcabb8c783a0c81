"""Loopback SMTP server for px360-delivery tests (aiosmtpd).

Usage: smtp_server.py CERT KEY OUTDIR. STARTTLS is required (plain MAIL FROM gets 530).
Prints PORT=<n> once ready; writes each message to OUTDIR/NNNN.eml with two headers
prepended: X-Was-TLS (whether the session had upgraded) and X-Rcpt. RCPT to an address
starting with "unknown" is refused with 550, "busy" with 451. Stops at EOF on stdin.
"""
import os
import socket
import ssl
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("unknown"):
            return "550 5.1.1 mailbox unavailable"
        if address.startswith("busy"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.outdir, "%04d.eml" % self.count)
        head = "X-Was-TLS: %s\r\nX-Rcpt: %s\r\n" % (session.ssl is not None, ",".join(envelope.rcpt_tos))
        with open(path + ".tmp", "wb") as f:
            f.write(head.encode("ascii"))
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 Ok: queued"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    cert, key, outdir = sys.argv[1:4]
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    port = free_port()
    controller = Controller(
        Handler(outdir),
        hostname="127.0.0.1",
        port=port,
        tls_context=ctx,
        require_starttls=True,
    )
    controller.start()
    print("PORT=%d" % port, flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
