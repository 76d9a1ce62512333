"""An event-driven server in Python: asyncio, one coroutine per connection (the paper's CPC row, in spirit).

eventbench starts it as
    /usr/bin/python3 asyncio_server.py --host {host} --port {port} --backlog {backlog} --page {page}
and it follows eventbench's request rules (src/servers/request.ts): read the head up to its blank line (at most
8 KiB, else 431), answer GET or HEAD of / or /index.html with the page, 404 for other paths, 405 for other
methods, 400 for a malformed request line, close after each answer, and close a client silent for 10 s.
"""
import argparse
import asyncio
import re

MAX_HEAD_BYTES = 8 * 1024
IDLE_TIMEOUT_S = 10
TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
VERSION = re.compile(rb"^HTTP/\d\.\d$")


def response(status, reason, body, content_type=b"text/plain", extra=b""):
    head = b"HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n" % (
        status, reason, content_type, len(body), extra)
    return head, body


def error(status, reason, extra=b""):
    return response(status, reason, b"%d %s\n" % (status, reason), extra=extra)


def route(head, page):
    """The answer to a complete request head, as (headers, body)."""
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    parts = line.split(b" ")
    if len(parts) != 3 or not TOKEN.match(parts[0]) or not VERSION.match(parts[2]) or not parts[1].startswith(b"/"):
        return error(400, b"Bad Request")
    method, target = parts[0], parts[1].split(b"?", 1)[0]
    if method not in (b"GET", b"HEAD"):
        return error(405, b"Method Not Allowed", b"Allow: GET, HEAD\r\n")
    if target not in (b"/", b"/index.html"):
        return error(404, b"Not Found")
    headers, body = response(200, b"OK", page, b"text/html")
    return headers, (body if method == b"GET" else b"")


async def read_head(reader):
    """The request head up to its blank line; None for a client that left or stayed silent; b'' when too large."""
    head = b""
    while True:
        end = head.find(b"\r\n\r\n")
        if end < 0:
            end = head.find(b"\n\n")
        if end >= 0:
            return head if end <= MAX_HEAD_BYTES else b""
        if len(head) > MAX_HEAD_BYTES:
            return b""
        try:
            chunk = await asyncio.wait_for(reader.read(4096), IDLE_TIMEOUT_S)
        except (asyncio.TimeoutError, ConnectionError):
            return None
        if not chunk:
            return None
        head += chunk


def serve(page):
    async def connection(reader, writer):
        try:
            head = await read_head(reader)
            if head is not None:
                headers, body = route(head, page) if head else error(431, b"Request Header Fields Too Large")
                writer.write(headers + body)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
    return connection


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backlog", type=int, default=511)
    parser.add_argument("--page", required=True)
    args = parser.parse_args()
    with open(args.page, "rb") as f:
        page = f.read()
    server = await asyncio.start_server(serve(page), args.host, args.port, backlog=args.backlog)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
