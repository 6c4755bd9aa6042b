#!/usr/bin/env python3
"""storm.py: N tablets against vdi-brokerd from one process (asyncio, one
SSLContext holding the device certificate; each tablet its own TLS
connection, as separate devices would be).

  storm.py login  URL CA CERT KEY N STATE   each tablet logs in (POST
          /v1/login, then its password); the tickets go to STATE
  storm.py storm  URL CA CERT KEY N STATE   after the "outage" every tablet
          reconnects at once (new TLS connection, POST /v1/reconnect with
          its ticket); the rotated tickets replace STATE
Tablets whose request is refused for load (connection refused or reset,
no answer in 15 s, 429, 503, a 500 saying "try again") retry after
50-200 ms, as the shim does; any other failure is an error. Prints one line:
  storm phase=login|storm tablets=N ok=K errors=E retries=R seconds=S rate=K/S
and exits 0 when every tablet succeeded.
"""
import asyncio
import json
import random
import ssl
import sys
import time
from urllib.parse import urlparse

RETRY_STATUS = (429, 503)


class Refused(Exception):
    pass


async def request(ctx, host, port, conn, method, path, body):
    """One HTTP/1.1 request with a 15 s timeout (then Refused: the tablet
    retries); conn is (reader, writer) or None (new TLS). Returns
    (status, json, conn)."""
    try:
        return await asyncio.wait_for(
            request1(ctx, host, port, conn, method, path, body), 15)
    except asyncio.TimeoutError:
        raise Refused("timeout")


async def request1(ctx, host, port, conn, method, path, body):
    if conn is None:
        try:
            conn = await asyncio.open_connection(host, port, ssl=ctx,
                                                 server_hostname=host)
        except (ConnectionError, OSError, ssl.SSLError) as e:
            raise Refused(str(e))
    r, w = conn
    data = json.dumps(body).encode()
    w.write((f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n"
             "Content-Type: application/json\r\n"
             f"Content-Length: {len(data)}\r\n\r\n").encode() + data)
    try:
        await w.drain()
        head = await r.readuntil(b"\r\n\r\n")
    except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError,
            OSError) as e:
        raise Refused(str(e))
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for ln in lines[1:]:
        if ln.lower().startswith("content-length:"):
            length = int(ln.split(":", 1)[1])
    raw = await r.readexactly(length) if length else b""
    try:
        doc = json.loads(raw) if raw else {}
    except ValueError:
        doc = {}
    return status, doc, conn


def close(conn):
    if conn is not None:
        conn[1].close()


async def tablet_login(ctx, host, port, user, stats):
    while True:
        conn = None
        try:
            st, doc, conn = await request(ctx, host, port, None, "POST",
                                          "/v1/login", {"user": user})
            while st == 200 and doc.get("state") == "prompt":
                st, doc, conn = await request(
                    ctx, host, port, conn, "POST", "/v1/login",
                    {"login_id": doc["login_id"], "answers": [user + "-pw"]})
            if st in RETRY_STATUS or (
                    st == 500 and "try again" in doc.get("message", "")):
                raise Refused(str(st))
            if st == 200 and doc.get("ticket"):
                stats["ok"] += 1
                return doc["ticket"]
            stats["errors"] += 1
            if stats["errors"] <= 3:
                print(f"# {user}: login status {st}: {doc}", flush=True)
            return None
        except Refused:
            stats["retries"] += 1
            await asyncio.sleep(random.uniform(0.05, 0.2))
        finally:
            close(conn)


async def tablet_reconnect(ctx, host, port, user, ticket, stats):
    while True:
        conn = None
        try:
            st, doc, conn = await request(ctx, host, port, None, "POST",
                                          "/v1/reconnect", {"ticket": ticket})
            if st in RETRY_STATUS:
                raise Refused(str(st))
            if st == 200 and doc.get("token") and doc.get("ticket"):
                stats["ok"] += 1
                return doc["ticket"]
            stats["errors"] += 1
            if stats["errors"] <= 3:
                print(f"# {user}: reconnect status {st}: {doc}", flush=True)
            return None
        except Refused:
            stats["retries"] += 1
            await asyncio.sleep(random.uniform(0.05, 0.2))
        finally:
            close(conn)


async def main():
    phase, url, ca, cert, key, n, state = sys.argv[1:8]
    n = int(n)
    u = urlparse(url)
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(cert, key)
    stats = {"ok": 0, "errors": 0, "retries": 0}
    users = [f"t{i:05d}" for i in range(1, n + 1)]
    t0 = time.monotonic()
    if phase == "login":
        # PAM conversations are bounded by the broker (64 at once in its
        # monitor):
        # tablets arrive over time, not all in one instant.
        sem = asyncio.Semaphore(48)

        async def one(user):
            async with sem:
                return await tablet_login(ctx, u.hostname, u.port, user,
                                          stats)
        tickets = await asyncio.gather(*(one(x) for x in users))
    else:
        old = json.load(open(state))
        tickets = await asyncio.gather(*(
            tablet_reconnect(ctx, u.hostname, u.port, x, old.get(x), stats)
            for x in users))
    secs = time.monotonic() - t0
    json.dump({x: t for x, t in zip(users, tickets) if t}, open(state, "w"))
    print(f"storm phase={phase} tablets={n} ok={stats['ok']} "
          f"errors={stats['errors']} retries={stats['retries']} "
          f"seconds={secs:.2f} rate={stats['ok'] / secs:.0f}", flush=True)
    return 0 if stats["ok"] == n else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
