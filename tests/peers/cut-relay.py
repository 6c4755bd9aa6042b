#!/usr/bin/env python3
# cut-relay.py LPORT DHOST DPORT [SRC]: a TCP relay tests can cut. SIGUSR1
# resets every open connection (as a network change does) and keeps
# listening; prints "listening" when ready and "cut" after each cut. With
# SRC, connections to the destination come from that address (another
# "network" on loopback).
import signal, socket, struct, sys, threading
lport, dhost, dport = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
src = sys.argv[4] if len(sys.argv) > 4 else None
conns, lock = [], threading.Lock()
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
signal.signal(signal.SIGUSR1, cut)
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
    try:
        d = socket.create_connection((dhost, dport),
                                     source_address=(src, 0) if src else None)
    except OSError:
        c.close()
        continue
    with lock:
        conns.extend([c, d])
    threading.Thread(target=pump, args=(c, d), daemon=True).start()
    threading.Thread(target=pump, args=(d, c), daemon=True).start()
