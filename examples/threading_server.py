"""A thread per connection in Python: the standard library's ThreadingHTTPServer (the paper's NPTL row, in spirit).

eventbench starts it as
    /usr/bin/python3 threading_server.py --host {host} --port {port} --backlog {backlog} --page {page}
It follows eventbench's request rules as far as http.server lets it: GET and HEAD of / or /index.html get the
page, other paths 404, other methods 405 (http.server would say 501), a malformed request line 400, a head over
8 KiB 431 once it is complete, and a client silent for 10 s is closed (the handler's socket timeout).
"""
import argparse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_HEAD_BYTES = 8 * 1024


def handler(page):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"
        # http.server takes a request line without a version for HTTP/0.9 and answers it with a bare body (no status
        # line); a client of today gets a status line.
        default_request_version = "HTTP/1.0"
        timeout = 10  # seconds a client may stay silent

        def parse_request(self):
            if not super().parse_request():
                return False
            if len(self.raw_requestline) + len(str(self.headers)) > MAX_HEAD_BYTES:
                self.send_error(431)
                return False
            if self.command not in ("GET", "HEAD"):
                self.send_error(405)
                return False
            return True

        def answer(self, with_body):
            if self.path.split("?", 1)[0] not in ("/", "/index.html"):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.send_header("Connection", "close")
            self.end_headers()
            if with_body:
                self.wfile.write(page)

        def do_GET(self):
            self.answer(True)

        def do_HEAD(self):
            self.answer(False)

        def log_message(self, *args):
            pass  # no log line per request: it would cost the server more than the request

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backlog", type=int, default=511)
    parser.add_argument("--page", required=True)
    args = parser.parse_args()
    with open(args.page, "rb") as f:
        page = f.read()
    ThreadingHTTPServer.request_queue_size = args.backlog
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer((args.host, args.port), handler(page)).serve_forever()


if __name__ == "__main__":
    main()
