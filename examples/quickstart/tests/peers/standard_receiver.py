"""A customer's webhook endpoint for the sender's tests: every delivery is
verified with the Standard Webhooks reference library (PyPI
`standardwebhooks`) and logged, one JSON line each:
{"id", "valid", "body", "signatures"}.

Usage: standard_receiver.py PORT_FILE LOG_FILE [--fail-first-of-every K]
(the secret comes from env WHARF_WEBHOOK_SECRET). With --fail-first-of-every
K, the first delivery of every K-th distinct message id gets a 503, so the
sender has to retry it. Listens on 127.0.0.1, on a port of the OS's choice
written to PORT_FILE.
"""

import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

port_file, log_file = sys.argv[1], sys.argv[2]
fail_every = 0
if "--fail-first-of-every" in sys.argv:
    fail_every = int(sys.argv[sys.argv.index("--fail-first-of-every") + 1])

webhook = Webhook(os.environ["WHARF_WEBHOOK_SECRET"])
lock = threading.Lock()
seen = {}
log = open(log_file, "a", buffering=1)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            webhook.verify(body, headers)
            valid = True
        except WebhookVerificationError:
            valid = False
        msg_id = headers.get("webhook-id", "")
        with lock:
            first = msg_id not in seen
            if first:
                seen[msg_id] = len(seen)
            index = seen[msg_id]
            log.write(json.dumps({
                "id": msg_id,
                "valid": valid,
                "body": body.decode("utf-8", "replace"),
                "signatures": len(headers.get("webhook-signature", "").split()),
            }) + "\n")
        if not valid:
            status = 401
        elif fail_every and first and index % fail_every == 0:
            status = 503
        else:
            status = 200
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
