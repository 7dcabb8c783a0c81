"""A loopback stand-in for Twilio's Messages API, for the survey benchmark.

Usage: twilio_standin.py PORT OUTFILE. Answers POST /2010-04-01/Accounts/{sid}/Messages.json as
Twilio does (201, JSON with a message `sid`), and appends one line per message to OUTFILE:
"<arrival unix time> <survey link token>" (the token from the body's /s/<token> link). Nothing is
sent anywhere. Stops on SIGTERM.
"""
import json
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
OUT = open(sys.argv[2], "a", buffering=1)
LOCK = threading.Lock()
COUNT = [0]
TOKEN = re.compile(r"/s/([0-9a-f]{64})")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        arrived = time.time()
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        form = dict(urllib.parse.parse_qsl(body.decode("utf-8")))
        if not self.path.endswith("/Messages.json") or "To" not in form or "Body" not in form:
            self.answer(400, {"code": 21604, "message": "To and Body are required", "status": 400})
            return
        m = TOKEN.search(form["Body"])
        with LOCK:
            COUNT[0] += 1
            n = COUNT[0]
            OUT.write("%.6f %s\n" % (arrived, m.group(1) if m else "-"))
        self.answer(201, {"sid": "SM%032x" % n, "status": "queued", "to": form["To"]})

    def answer(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
