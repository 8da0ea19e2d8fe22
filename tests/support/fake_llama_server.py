"""A stand-in for `python -m llama_cpp.server` in the owner-death tests: it takes the same command line,
writes its pid to --pidfile, and answers /v1/models with --model_alias only when --ready is "yes"
(with "no" it stays "loading" forever, like a 1.1 GB model on a busy machine)."""

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

    class Models(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = json.dumps({"data": [{"id": alias}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            pass

    HTTPServer(("127.0.0.1", args.port), Models).serve_forever()


if __name__ == "__main__":
    main()
