"""A small, low-overhead HTTP/1.1 load client for ``bench/portal_load.py``.

Run as its own process (the server under test and this client share the
machine, so it is written to spend little CPU): asyncio streams, keep-alive
connections, minimal response parsing. Two jobs:

``verify``  For each person in a credentials file (JSON lines with ``code``,
            ``dob``, ``postcode``): ``GET /n/<code>`` and ``GET /verify`` to get a
            fresh session and a CSRF token (the *prepare* stage), then, timed on
            its own, ``POST /verify`` with the right answers (the *post* stage).
            Writes each verified session cookie to ``--cookies-out``.
``notice``  ``GET /notice`` in a closed loop from ``--concurrency`` connections,
            rotating among the cookies of ``--cookies``, for ``--duration``
            seconds (the fallback when ``wrk`` is not installed).

Prints one JSON object with counts, rates and latency percentiles. Never run in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from pathlib import Path
from urllib.parse import quote

CSRF_RE = re.compile(rb'name="csrf_token"(?: type="hidden")? value="([^"]+)"')
COOKIE_NAME = b"portal_session"


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[bytes, bytes], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def cookie(self) -> str | None:
        value = self.headers.get(b"set-cookie")
        if value and value.startswith(COOKIE_NAME + b"="):
            return value.split(b";", 1)[0].decode()
        return None


class Connection:
    """One keep-alive connection; reconnects when the server closes it."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, cookie: str | None = None,
                      form: str | None = None) -> Response:
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                "Accept-Language: en"]
        if cookie:
            head.append(f"Cookie: {cookie}")
        body = b""
        if form is not None:
            body = form.encode()
            head.append("Content-Type: application/x-www-form-urlencoded")
            head.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        for attempt in (1, 2):
            if self.writer is None:
                await self._open()
            try:
                self.writer.write(data)
                response = await self._read()
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.headers.get(b"connection", b"").lower() == b"close":
                self.close()
            return response
        raise AssertionError("unreachable")

    async def _read(self) -> Response:
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
        if b"content-length" in headers:
            body = await self.reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            parts = []
            while True:
                size = int((await self.reader.readline()).strip(), 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            body = b"".join(parts)
        else:
            body = await self.reader.read()
            self.close()
        return Response(status, headers, body)


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50/p90/p99/max of latencies in seconds, reported in milliseconds."""
    if not samples:
        return {}
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50_ms": pick(0.50), "p90_ms": pick(0.90), "p99_ms": pick(0.99),
            "max_ms": round(ordered[-1] * 1000, 2)}


def _stage(name: str, count: int, errors: int, seconds: float, latencies: list[float]) -> dict:
    return {"stage": name, "requests": count, "errors": errors, "seconds": round(seconds, 3),
            "requests_per_s": round(count / seconds, 1) if seconds else None,
            **percentiles(latencies)}


async def _verify(args) -> dict:
    text = Path(args.creds).read_text(encoding="utf-8")
    people = [json.loads(line) for line in text.splitlines() if line.strip()]
    conns = [Connection(args.host, args.port) for _ in range(args.concurrency)]

    # Prepare: a fresh session holding the code, and the CSRF token of the verify form.
    prepared: list[tuple[str, str] | None] = [None] * len(people)
    queue = iter(range(len(people)))
    latencies: list[float] = []
    errors = 0

    async def prepare(conn: Connection) -> None:
        nonlocal errors
        for index in queue:
            person = people[index]
            started = time.perf_counter()
            first = await conn.request("GET", "/n/" + quote(person["code"]))
            cookie = first.cookie()
            page = await conn.request("GET", "/verify", cookie=cookie)
            latencies.append(time.perf_counter() - started)
            match = CSRF_RE.search(page.body)
            if first.status != 303 or page.status != 200 or not match or not cookie:
                errors += 1
                continue
            prepared[index] = (page.cookie() or cookie, match.group(1).decode())

    started = time.perf_counter()
    await asyncio.gather(*(prepare(conn) for conn in conns))
    prep = _stage("prepare (GET /n/<code> + GET /verify)", 2 * len(people), errors,
                  time.perf_counter() - started, latencies)

    # Post: only the verification POSTs, timed on their own.
    ready = [(index, item) for index, item in enumerate(prepared) if item]
    queue = iter(ready)
    latencies = []
    errors = 0
    cookies: list[str] = []

    async def post(conn: Connection) -> None:
        nonlocal errors
        for index, (cookie, token) in queue:
            person = people[index]
            form = (f"csrf_token={quote(token)}&date_of_birth={person['dob']}"
                    f"&postcode={quote(person['postcode'])}")
            started = time.perf_counter()
            response = await conn.request("POST", "/verify", cookie=cookie, form=form)
            latencies.append(time.perf_counter() - started)
            location = response.headers.get(b"location", b"")
            verified = response.cookie()
            if response.status != 302 or not location.endswith(b"/notice") or not verified:
                errors += 1
                continue
            cookies.append(verified)

    started = time.perf_counter()
    await asyncio.gather(*(post(conn) for conn in conns))
    posted = _stage("POST /verify", len(ready), errors, time.perf_counter() - started, latencies)

    # First view: where the redirect leads; a browser keeps the cookie the page sets
    # (it records that this session has read the notice, which the log notes once).
    queue = iter(range(len(cookies)))
    latencies = []
    errors = 0

    async def first_view(conn: Connection) -> None:
        nonlocal errors
        for index in queue:
            started = time.perf_counter()
            response = await conn.request("GET", "/notice", cookie=cookies[index])
            latencies.append(time.perf_counter() - started)
            if response.status != 200 or b"<h1" not in response.body:
                errors += 1
            cookies[index] = response.cookie() or cookies[index]

    started = time.perf_counter()
    await asyncio.gather(*(first_view(conn) for conn in conns))
    first = _stage("first GET /notice of each session", len(cookies), errors,
                   time.perf_counter() - started, latencies)
    for conn in conns:
        conn.close()
    Path(args.cookies_out).write_text("\n".join(cookies) + "\n", encoding="utf-8")
    flows = len(cookies) / (prep["seconds"] + posted["seconds"])
    return {"prepare": prep, "post": posted, "first_view": first,
            "verified_sessions": len(cookies), "full_flows_per_s": round(flows, 1)}


async def _notice(args) -> dict:
    text = Path(args.cookies).read_text(encoding="utf-8")
    cookies = [line.strip() for line in text.splitlines() if line.strip()]
    conns = [Connection(args.host, args.port) for _ in range(args.concurrency)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = 0
    stop_at = time.perf_counter() + args.duration

    async def loop(conn: Connection, offset: int) -> None:
        nonlocal counter
        position = offset
        while time.perf_counter() < stop_at:
            cookie = cookies[position % len(cookies)]
            position += len(conns)
            started = time.perf_counter()
            response = await conn.request("GET", "/notice", cookie=cookie)
            latencies.append(time.perf_counter() - started)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            counter += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(conn, n) for n, conn in enumerate(conns)))
    seconds = time.perf_counter() - started
    for conn in conns:
        conn.close()
    errors = sum(count for status, count in statuses.items() if status != 200)
    return {"notice": _stage("GET /notice", counter, errors, seconds, latencies),
            "statuses": {str(k): v for k, v in statuses.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("job", choices=("verify", "notice"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--creds", help="verify: JSON lines of code, dob, postcode")
    parser.add_argument("--cookies-out", help="verify: where to write verified cookies")
    parser.add_argument("--cookies", help="notice: file of verified session cookies")
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args(argv)
    job = _verify if args.job == "verify" else _notice
    result = asyncio.run(job(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
