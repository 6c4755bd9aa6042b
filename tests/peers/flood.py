#!/usr/bin/env python3
"""flood.py: a bounded pre-authentication flood for the daemons' tests.

    flood.py -t HOST:PORT -m MODE [-n COUNT] [-d SECONDS] [-s SRC[,SRC...]]
             [-r RATE] [--reopen] [-c CERT -k KEY -C CA] [-g GO-FILE]

Modes (every one stops by itself after -d seconds, at most 120, and opens
at most 5,000 connections at once; loopback targets only):

  idle      COUNT TCP connections that never send a byte (half-open from
            the server's point of view: accepted, then silent). With
            --reopen each one the server closes is opened again, as an
            attacker would, at most RATE connects a second.
  tls       the same, but each sends the first bytes of a TLS ClientHello
            and then stalls inside the handshake.
  trickle   COUNT TLS connections with the client certificate (-c/-k,
            verifying the server with -C) that send an HTTP request one
            byte a second, forever; prints how long the server let each
            one live.
  hold      one TLS connection with the client certificate that sends a
            POST /v1/login whose body is cut short, waits until GO-FILE
            exists, then sends the rest and prints "status=N" and the body
            (the request reaches the daemon at a moment the test picks).

Source addresses (-s) are bound before connecting (127.0.0.0/8 works on
Linux without configuration), used in turn. A line "flood: ..." with the
counters is printed every second and at the end; the soft descriptor limit
is raised to the hard one first.
"""
import argparse
import errno
import os
import resource
import selectors
import socket
import ssl
import struct
import sys
import time

MAX_COUNT = 5000
LINGER_RESET = struct.pack("ii", 1, 0)
MAX_SECONDS = 120
# A TLS record header announcing a ClientHello, and its first bytes.
PARTIAL_HELLO = bytes.fromhex("160301020001000200fc0303") + b"\x00" * 8


def close_reset(s):
    """Closes with a reset: a flood leaves no TIME_WAIT behind."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
    except OSError:
        pass
    s.close()


def parse_target(s):
    host, _, port = s.rpartition(":")
    if not host.startswith("127.") and host != "::1":
        sys.exit("flood.py: loopback targets only (got %s)" % host)
    return host, int(port)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Flood:
    def __init__(self, a):
        self.a = a
        self.target = parse_target(a.target)
        self.sources = a.source.split(",") if a.source else [None]
        self.next_src = 0
        self.sel = selectors.DefaultSelector()
        self.open = 0
        self.opened = 0
        self.closed_by_peer = 0
        self.refused = 0
        self.want = min(a.count, MAX_COUNT)
        self.deadline = time.monotonic() + min(a.duration, MAX_SECONDS)
        self.last_report = 0.0
        self.budget = float(a.rate)
        self.budget_t = time.monotonic()

    def report(self, final=False):
        print("flood: %smode=%s open=%d opened=%d closed_by_peer=%d "
              "connect_failed=%d" % ("final " if final else "", self.a.mode,
                                     self.open, self.opened,
                                     self.closed_by_peer, self.refused),
              flush=True)

    def connect_one(self):
        src = self.sources[self.next_src % len(self.sources)]
        self.next_src += 1
        s = socket.socket(socket.AF_INET6 if ":" in self.target[0]
                          else socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            if src:
                s.bind((src, 0))
            s.connect(self.target)
        except BlockingIOError:
            pass
        except OSError:
            s.close()
            self.refused += 1
            return
        self.sel.register(s, selectors.EVENT_WRITE, "connecting")
        self.open += 1
        self.opened += 1

    def drop(self, s, by_peer):
        self.sel.unregister(s)
        close_reset(s)
        self.open -= 1
        if by_peer:
            self.closed_by_peer += 1

    def run_tcp(self):
        while time.monotonic() < self.deadline:
            now = time.monotonic()
            self.budget = min(self.a.rate,
                              self.budget + (now - self.budget_t) * self.a.rate)
            self.budget_t = now
            while (self.open < self.want and self.budget >= 1 and
                   (self.a.reopen or self.opened < self.want)):
                self.connect_one()
                self.budget -= 1
            for key, ev in self.sel.select(timeout=0.05):
                s = key.fileobj
                if key.data == "connecting":
                    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err != 0:
                        self.refused += 1
                        self.drop(s, False)
                        continue
                    if self.a.mode == "tls":
                        try:
                            s.send(PARTIAL_HELLO)
                        except OSError:
                            self.drop(s, True)
                            continue
                    self.sel.modify(s, selectors.EVENT_READ, "open")
                    continue
                try:
                    d = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    d = b""
                if not d:
                    self.drop(s, True)
            if now - self.last_report >= 1:
                self.last_report = now
                self.report()
        self.report(final=True)
        for key in list(self.sel.get_map().values()):
            self.drop(key.fileobj, False)


def tls_context(a):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(a.cafile)
    ctx.check_hostname = False
    ctx.load_cert_chain(a.cert, a.key)
    return ctx


def tls_connect(a, ctx, src):
    host, port = parse_target(a.target)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return ctx.wrap_socket(s, server_hostname=host)


def run_trickle(a):
    ctx = tls_context(a)
    sources = a.source.split(",") if a.source else [None]
    req = (b"POST /v1/login HTTP/1.1\r\nHost: broker\r\n"
           b"Content-Type: application/json\r\n" + b"X-Slow: " +
           b"a" * 4000 + b"\r\n")
    conns = []
    t_end = time.monotonic() + min(a.duration, MAX_SECONDS)
    for i in range(min(a.count, 200)):
        try:
            t = tls_connect(a, ctx, sources[i % len(sources)])
        except OSError as e:
            print("flood: trickle connect failed: %s" % e, flush=True)
            continue
        t.setblocking(False)
        conns.append([t, time.monotonic(), 0, None])
    print("flood: trickle connected=%d" % len(conns), flush=True)
    while time.monotonic() < t_end and any(c[3] is None for c in conns):
        for c in conns:
            if c[3] is not None:
                continue
            t = c[0]
            gone = False
            try:
                d = t.recv(4096)
                if not d:
                    gone = True
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                pass
            except OSError:
                gone = True
            if not gone:
                try:
                    t.send(req[c[2] % len(req):c[2] % len(req) + 1])
                    c[2] += 1
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    pass
                except OSError:
                    gone = True
            if gone:
                c[3] = time.monotonic() - c[1]
        time.sleep(1)
    held = [c[3] for c in conns if c[3] is not None]
    alive = sum(1 for c in conns if c[3] is None)
    print("flood: final mode=trickle connected=%d closed_by_peer=%d "
          "still_open=%d max_lived=%.1f bytes_sent_max=%d" %
          (len(conns), len(held), alive, max(held) if held else 0.0,
           max((c[2] for c in conns), default=0)), flush=True)
    for c in conns:
        c[0].close()


def run_hold(a):
    ctx = tls_context(a)
    body = b'{"user":"%s"}' % a.user.encode()
    head = (b"POST /v1/login HTTP/1.1\r\nHost: broker\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n"
            b"\r\n" % len(body))
    t_end = time.monotonic() + min(a.duration, MAX_SECONDS)
    t = tls_connect(a, ctx, a.source.split(",")[0] if a.source else None)
    t.sendall(head + body[:-1])
    print("flood: hold sent the request but its last byte", flush=True)
    while not os.path.exists(a.go) and time.monotonic() < t_end:
        time.sleep(0.05)
    t.settimeout(max(1.0, t_end - time.monotonic()))
    try:
        t.sendall(body[-1:])
        d = b""
        while b"\r\n\r\n" not in d:
            b = t.recv(4096)
            if not b:
                break
            d += b
        head_end = d.find(b"\r\n\r\n")
        status = d.split(b" ", 2)[1].decode() if d.startswith(b"HTTP/") else "0"
        # The body follows the headers (Content-Length from evhttp).
        clen = 0
        for line in d[:head_end].split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                clen = int(line.split(b":")[1])
        rest = d[head_end + 4:]
        while len(rest) < clen:
            b = t.recv(4096)
            if not b:
                break
            rest += b
        print("status=%s" % status)
        print(rest.decode(errors="replace").strip(), flush=True)
    except OSError as e:
        print("status=0\n%s" % e, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("-t", "--target", required=True)
    p.add_argument("-m", "--mode", required=True,
                   choices=["idle", "tls", "trickle", "hold"])
    p.add_argument("-n", "--count", type=int, default=1000)
    p.add_argument("-d", "--duration", type=float, default=20)
    p.add_argument("-s", "--source", default="")
    p.add_argument("-r", "--rate", type=float, default=500)
    p.add_argument("--reopen", action="store_true")
    p.add_argument("-c", "--cert")
    p.add_argument("-k", "--key")
    p.add_argument("-C", "--cafile")
    p.add_argument("-g", "--go", default="")
    p.add_argument("-u", "--user", default="alice")
    a = p.parse_args()
    raise_nofile()
    if a.mode in ("idle", "tls"):
        Flood(a).run_tcp()
    elif a.mode == "trickle":
        run_trickle(a)
    else:
        run_hold(a)


if __name__ == "__main__":
    main()
