#!/usr/bin/env python3
"""The application behind the server Envoy: answers GET /get with JSON naming the request, in
the manner of httpbin.org/get that the 2020 seed used. Logs `listening on HOST:PORT` once bound.

    upstream.py --bind 127.0.0.2 --port 18000
"""

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path.split("?")[0] != "/get":
            body, status = b'{"error": "not found"}\n', 404
        else:
            answer = {"args": {}, "headers": dict(self.headers.items()), "url": "http://%s%s" % (self.headers.get("Host", ""), self.path)}
            body, status = (json.dumps(answer, indent=2, sort_keys=True) + "\n").encode(), 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        print("upstream: " + format % args, file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18000)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.bind, args.port), Handler)
    print("listening on %s:%d" % server.server_address[:2], file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
