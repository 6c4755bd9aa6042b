#!/usr/bin/python3
# notify-socket.py SOCKET OUT: stands in for systemd's notification socket
# (sd_notify(3)). Binds a datagram UNIX socket at SOCKET and appends every
# message it receives to OUT, one message per line ("\n" inside a message
# written as "|"), flushed at once, until killed.
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)  # the broker's worker may have dropped to nobody
with open(out, "a", buffering=1) as f:
    print("listening", flush=True)
    while True:
        msg = s.recv(4096).decode("utf-8", "replace")
        f.write(msg.strip("\n").replace("\n", "|") + "\n")
