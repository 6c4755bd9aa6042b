#!/usr/bin/env python3
# cut-relay.py [--hold] LPORT DHOST DPORT [SRC]: a TCP relay tests can cut
# or hold. Prints "listening" when ready.
#
# Without --hold, SIGUSR1 resets every open connection (as a network change
# does) and keeps listening; it prints "cut" after each cut. With SRC,
# connections to the destination come from that address (another "network"
# on loopback).
#
# With --hold, each accepted connection is held (nothing read, nothing sent
# on, no connection to the destination) and announced with "held N"; on
# SIGUSR1 every held connection is released ("released N"): connected to
# DHOST:DPORT and relayed both ways. Tests use it as the desktop of a
# tunnel to keep the gateway's desktop leg in its connecting state for as
# long as they need (the TCP connect succeeded, the X.224 answer has not
# come).
import signal, socket, struct, sys, threading
args = sys.argv[1:]
hold = bool(args) and args[0] == "--hold"
if hold:
    args = args[1:]
lport, dhost, dport = int(args[0]), args[1], int(args[2])
src = args[3] if len(args) > 3 else None
conns, held, lock, count = [], [], threading.Lock(), [0]


def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def relay(c):
    """Connects c's destination and relays both ways; False if it failed."""
    try:
        d = socket.create_connection((dhost, dport),
                                     source_address=(src, 0) if src else None)
    except OSError:
        c.close()
        return False
    with lock:
        conns.extend([c, d])
    threading.Thread(target=pump, args=(c, d), daemon=True).start()
    threading.Thread(target=pump, args=(d, c), daemon=True).start()
    return True


def cut(*_):
    with lock:
        for s in conns:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        conns.clear()
    print("cut", flush=True)


def release(*_):
    with lock:
        todo = held[:]
        held.clear()
    for n, c in todo:
        if relay(c):
            print("released %d" % n, flush=True)


signal.signal(signal.SIGUSR1, release if hold else cut)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", lport))
ls.listen(16)
print("listening", flush=True)
while True:
    try:
        c, _ = ls.accept()
    except InterruptedError:
        continue
    if not hold:
        relay(c)
        continue
    with lock:
        count[0] += 1
        held.append((count[0], c))
    print("held %d" % count[0], flush=True)
