"""A stand-in for `python -m llama_cpp.server` in the owner-death tests: it takes the same command line,
writes its pid to --pidfile, and answers /v1/models with --model_alias only when --ready is "yes"
(with "no" it stays "loading" forever, like a 1.1 GB model on a busy machine). A chat completion is
answered "ok". Like llama_cpp.server, it takes its API key from the environment (API_KEY) when the
command line gives none, and then answers 401 to every request without `Authorization: Bearer KEY`."""

from __future__ import annotations

import argparse
import json
import os
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--model_alias", default="model")
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--ready", choices=["yes", "no"], default="yes")
    args, _ = ap.parse_known_args()  # the real server's other options are ignored
    tmp = f"{args.pidfile}.tmp"
    with open(tmp, "w") as f:
        f.write(str(os.getpid()))
    os.replace(tmp, args.pidfile)
    if args.ready == "no":
        while True:
            time.sleep(1)
    alias = args.model_alias
    key = os.environ.get("API_KEY")

    class Models(BaseHTTPRequestHandler):
        def _send(self, code: int, data: object) -> None:
            body = json.dumps(data).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _allowed(self) -> bool:
            if key is None or self.headers.get("Authorization") == f"Bearer {key}":
                return True
            self._send(401, {"detail": "Invalid API key"})
            return False

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self._allowed():
                self._send(200, {"data": [{"id": alias}]})

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self._allowed():
                self._send(200, {"id": "c1", "object": "chat.completion", "created": 0, "model": alias,
                                 "choices": [{"index": 0, "finish_reason": "stop",
                                              "message": {"role": "assistant", "content": "ok"}}],
                                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

        def log_message(self, *a: object) -> None:
            pass

    HTTPServer(("127.0.0.1", args.port), Models).serve_forever()


if __name__ == "__main__":
    main()
