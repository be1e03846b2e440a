"""Engagement scoring service: reads features from the processed bucket, scores customers."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DATA_BUCKET = os.environ["DATA_BUCKET"]
WAREHOUSE_API_KEY = os.environ["WAREHOUSE_API_KEY"]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        status, body = (
            (200, {"ok": True, "bucket": DATA_BUCKET}) if self.path == "/health" else (404, {})
        )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()  # noqa: S104
