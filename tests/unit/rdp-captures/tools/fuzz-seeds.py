#!/usr/bin/env python3
"""Writes the seed corpora of the rdp/ fuzz harnesses
(tests/fuzz/corpus/rdp_*/) from the captures in tests/unit/rdp-captures/.

    python3 tests/unit/rdp-captures/tools/fuzz-seeds.py   (from the top)

Each harness's comment in tests/fuzz/fuzz_rdp_*.c says what an input is;
this script only reshapes captured PDUs into that form."""
import os, struct, sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
CAP = os.path.join(TOP, 'tests', 'unit', 'rdp-captures')
OUT = os.path.join(TOP, 'tests', 'fuzz', 'corpus')
SESSIONS = ['shadow-hardened', 'shadow-full', 'shadow-persist', 'xrdp-full',
            'relay-shadow', 'relay-xrdp', 'relay-persist',
            'relay-xrdp-audio']


def files(session, keep_derived=False):
    d = os.path.join(CAP, session)
    for f in sorted(os.listdir(d)):
        if not keep_derived and ('.fwd' in f or '.local' in f):
            continue
        yield f, open(os.path.join(d, f), 'rb').read()


def per_len(m, p):
    if m[p] & 0x80:
        return ((m[p] & 0x7F) << 8) | m[p + 1], p + 2
    return m[p], p + 1


def mcs(pdu):
    return pdu[7:]


def send_data(pdu):
    m = mcs(pdu)
    l, p = per_len(m, 6)
    return m[p:p + l]


def ber_len(b, p):
    if b[p] & 0x80:
        n = b[p] & 0x7F
        return int.from_bytes(b[p + 1:p + 1 + n], 'big'), p + 1 + n
    return b[p], p + 1


def user_data(pdu):
    """GCC ConnectData of a Connect-Initial/Response: the last OCTET STRING."""
    m = mcs(pdu)
    i = m.rfind(b'\x00\x05\x00\x14\x7c\x00\x01')
    return m[i:]


def blocks(ud, key):
    i = ud.find(key)
    l, p = per_len(ud, i + 4)
    return ud[p:p + l]


class Writer:
    def __init__(self, name):
        self.dir = os.path.join(OUT, 'rdp_' + name)
        os.makedirs(self.dir, exist_ok=True)
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))
        self.seen = set()

    def put(self, label, data):
        if data in self.seen or len(data) > 65536:
            return
        self.seen.add(data)
        with open(os.path.join(self.dir, label), 'wb') as f:
            f.write(data)


def rec16(b):
    return struct.pack('<H', len(b)) + b


def main():
    w = {n: Writer(n) for n in ('frame', 'x224', 'mcs', 'gcc', 'sec', 'info',
                                 'caps', 'svc', 'dvc', 'gfx')}
    for s in SESSIONS:
        stream = b''
        chan_names = {}
        svc_recs = b''
        dvc_recs = b''
        drdynvc = None
        for f, b in files(s):
            if not b:
                continue
            tag = s + '-' + f[:-4]
            if len(stream) < 2000:
                stream += b
            if 'fastpath' in f:
                w['frame'].put(tag, b'\x00' + b)
                continue
            if 'x224' in f:
                w['x224'].put(tag, b)
                continue
            if 'connect-initial' in f:
                w['mcs'].put(tag, b'\x00' + b)
                ud = user_data(b)
                w['gcc'].put(tag + '-ud', b'\x02' + ud)
                w['gcc'].put(tag + '-blocks', b'\x00' + blocks(ud, b'Duca'))
                continue
            if 'connect-response' in f:
                w['mcs'].put(tag, b'\x01\x08' + b)
                w['mcs'].put(tag + '-all', b'\x01\x0f' + b)
                ud = user_data(b)
                w['gcc'].put(tag + '-ud', b'\x02' + ud)
                bl = bytearray(blocks(ud, b'McDn'))
                w['gcc'].put(tag + '-blocks', b'\x01' + bytes(bl))
                # The same desktop answer with two ids: what the gcc
                # harness's fixed client list (drdynvc, rdpsnd kept) needs.
                q = 0
                while q < len(bl):
                    t, ln = struct.unpack('<HH', bl[q:q + 4])
                    if t == 0x0C03:
                        io, n = struct.unpack('<HH', bl[q + 4:q + 8])
                        net = struct.pack('<HHHHHH', 0x0C03, 12, io, 2,
                                          1004, 1005)
                        two = bytes(bl[:q]) + net + bytes(bl[q + ln:])
                        w['gcc'].put(tag + '-two', b'\x01' + two)
                        break
                    q += ln
                continue
            if '-mcs-' in f:
                w['mcs'].put(tag, b'\x02' + b)
                w['x224'].put(tag, b)
                continue
            d = send_data(b)
            if '-io-' in f:
                if 'client-info' in f:
                    w['info'].put(tag, d)
                elif 'license' in f:
                    w['sec'].put(tag, d)
                else:
                    w['caps'].put(tag, d)
                    if 'data' in f:
                        w['mcs'].put(tag, b'\x02' + b)
                continue
            if '-svc-' in f:
                svc_recs += rec16(d)
                if 'drdynvc' in f:
                    msg = d[8:]
                    dvc_recs += bytes([1 if 's2c' in f else 0]) + rec16(msg)
                    if 'c2s' in f and msg[0] >> 4 == 3 and len(msg) > 2:
                        w['gfx'].put(tag, msg[2:])
        w['frame'].put(s + '-stream', b'\x00' + stream)
        if s == 'shadow-hardened':
            w['frame'].put(s + '-stream-capped', b'\x02' + stream)
        w['svc'].put(s, svc_recs)
        w['dvc'].put(s, b'\x00' + dvc_recs)
        w['dvc'].put(s + '-audio', b'\x01' + dvc_recs)
    # Synthetic seeds for paths no real peer takes.
    big = bytes(range(256)) * 20
    chunks = b''
    for i in range(0, len(big), 1600):
        part = big[i:i + 1600]
        fl = (1 if i == 0 else 0) | (2 if i + 1600 >= len(big) else 0)
        chunks += rec16(struct.pack('<II', len(big), fl) + part)
    w['svc'].put('synthetic-multichunk', chunks)
    offer = struct.pack('<HHIH', 0x10, 0, 8 + 2 + 24, 2) + bytes(24)
    ack = struct.pack('<HHIIII', 0x0D, 0, 20, 0, 1, 0)
    w['gfx'].put('synthetic-offer', offer)
    w['gfx'].put('synthetic-ack-offer', ack + offer)
    gfx_open = (b'\x01' + rec16(b'\x50\x00\x03\x00' + bytes(8)) +
                b'\x00' + rec16(b'\x50\x00\x03\x00') +
                b'\x01' + rec16(b'\x10\x02Microsoft::Windows::RDS::Graphics\x00') +
                b'\x00' + rec16(b'\x10\x02\x00\x00\x00\x00'))
    df = b'\x24\x02' + struct.pack('<H', len(ack + offer)) + (ack + offer)[:20]
    rest = b'\x30\x02' + (ack + offer)[20:]
    w['dvc'].put('synthetic-gfx-offer-fragmented', b'\x00' + gfx_open +
                 b'\x00' + rec16(df) + b'\x00' + rec16(rest))
    w['dvc'].put('synthetic-compressed', b'\x00' + gfx_open +
                 b'\x01' + rec16(b'\x70\x02\x01\x02\x03'))
    w['dvc'].put('synthetic-refused', b'\x00' + b'\x01' +
                 rec16(b'\x10\x07AUDIO_INPUT\x00') + b'\x00' +
                 rec16(b'\x10\x07\x00\x00\x00\x00') + b'\x01' +
                 rec16(b'\x30\x07\x01\x02'))
    flow = b'\x00\x80\x00\x42\x01\x01\xea\x03'
    redir = struct.pack('<HHHI', 12, 0x1A, 1002, 0) + b'\x00\x00'
    w['caps'].put('synthetic-flow', flow)
    w['caps'].put('synthetic-redirection', redir)
    for n, wr in sorted(w.items()):
        print('rdp_%s: %d seeds' % (n, len(wr.seen)))


if __name__ == '__main__':
    sys.exit(main())
