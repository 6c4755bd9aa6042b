#!/usr/bin/env python3
# hold-relay.py LPORT DHOST DPORT: a TCP relay that holds every connection
# until told. Each accepted connection is held (nothing read, nothing sent
# on, no connection to the destination) and announced with "held N"; on
# SIGUSR1 every held connection is released ("released N"): connected to
# DHOST:DPORT and relayed both ways. Tests use it as the desktop of a
# tunnel to keep the gateway's desktop leg in its connecting state for as
# long as they need (the TCP connect succeeded, the X.224 answer has not
# come). Prints "listening" when ready.
import signal, socket, sys, threading
lport, dhost, dport = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
held, lock, count = [], threading.Lock(), [0]
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
def release(*_):
    with lock:
        todo = held[:]
        held.clear()
    for n, c in todo:
        try:
            d = socket.create_connection((dhost, dport))
        except OSError:
            c.close()
            continue
        threading.Thread(target=pump, args=(c, d), daemon=True).start()
        threading.Thread(target=pump, args=(d, c), daemon=True).start()
        print("released %d" % n, flush=True)
signal.signal(signal.SIGUSR1, release)
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
    with lock:
        count[0] += 1
        held.append((count[0], c))
    print("held %d" % count[0], flush=True)
