"""Copies a curated, labelled subset of one rdp-capture-proxy session
directory: every slow-path PDU up to 7000 bytes (larger ones are screen
updates) once per content, at most N fast-path PDUs per direction of up to
1500 bytes, and the proxy's .fwd/.local files next to their originals.

    curate.py SESSION_DIR OUT_DIR [N]"""
import sys,os,struct,shutil
src,dst=sys.argv[1],sys.argv[2]
fp_keep=int(sys.argv[3]) if len(sys.argv)>3 else 4
os.makedirs(dst,exist_ok=True)
files=sorted(os.listdir(src))
chan={1003:'io'}
names=[]
def per_len(m,p):
    l=m[p]
    if l&0x80: return ((l&0x7f)<<8)|m[p+1],p+2
    return l,p+1
# channel names from CI + CRsp (original, not .fwd)
ci=open(os.path.join(src,'0002-c2s.bin'),'rb').read()
i=ci.find(b'Duca'); l,p=per_len(ci,i+4); ud=ci[p:p+l]; q=0
while q<len(ud):
    t,ln=struct.unpack('<HH',ud[q:q+4])
    if t==0xc003:
        n=struct.unpack('<I',ud[q+4:q+8])[0]
        names=[ud[q+8+12*k:q+16+12*k].split(b'\0')[0].decode() for k in range(n)]
    q+=ln
crsp_name='0003-s2c.fwd.bin' if os.path.exists(os.path.join(src,'0003-s2c.fwd.bin')) else '0003-s2c.bin'
cr=open(os.path.join(src,crsp_name),'rb').read()
i=cr.find(b'McDn'); l,p=per_len(cr,i+4); ud=cr[p:p+l]; q=0
while q<len(ud):
    t,ln=struct.unpack('<HH',ud[q:q+4])
    if t==0x0c03:
        io,n=struct.unpack('<HH',ud[q+4:q+8]); chan[io]='io'
        for k in range(n):
            chan[struct.unpack('<H',ud[q+8+2*k:q+10+2*k])[0]]=names[k]
    if t==0x0c04:
        chan[struct.unpack('<H',ud[q+4:q+6])[0]]='msgchannel'
    q+=ln
dvccmd={1:'create',2:'data-first',3:'data',4:'close',5:'caps',6:'data-first-compressed',7:'data-compressed',8:'softsync-req',9:'softsync-rsp'}
t2={0x1f:'synchronize',0x14:'control',0x27:'fontlist',0x28:'fontmap',0x2b:'persistent-key-list',0x1c:'input',0x2f:'set-error-info',0x26:'save-session-info',0x38:'frame-ack',0x21:'refresh-rect',0x23:'suppress-output',0x36:'status-info',0x37:'monitor-layout',0x24:'shutdown-request',0x02:'update',0x1b:'pointer',0x2c:'bitmapcache-error'}
fpn=0
fpc={}
licensing=False
seen_info=False
labels={}
kept_bytes=set()
files=[f for f in files if '.fwd' not in f]+[f for f in files if '.fwd' in f]
for f in files:
    b=open(os.path.join(src,f),'rb').read()
    base=f[:-4]
    if '.fwd' in f:
        orig=f.replace('.fwd','')
        if orig not in labels: continue
        label=labels[orig]+('-dropped' if len(b)==0 else '')
        shutil.copy(os.path.join(src,f),os.path.join(dst,base+'-'+label+'.bin'))
        continue
    if len(b)>7000 or (len(b)>1000 and b in kept_bytes): continue
    kept_bytes.add(b)
    if len(b)==0: label='dropped'
    elif b[0]!=3:
        label='fastpath-'+('output' if 's2c' in f else 'input')
        if len(b)>1500 or fpc.get(label,0)>=fp_keep: continue
        fpc[label]=fpc.get(label,0)+1
    else:
        x=b[4:]
        if x[1]==0xe0: label='x224-cr'
        elif x[1]==0xd0: label='x224-cc'
        else:
            m=x[3:]; t=m[0]>>2
            if t==31: label='mcs-connect-'+('initial' if m[1]==0x65 else 'response')
            elif t==1: label='mcs-erect-domain'
            elif t==10: label='mcs-attach-user-request'
            elif t==11: label='mcs-attach-user-confirm'
            elif t==14: label='mcs-channel-join-request'
            elif t==15: label='mcs-channel-join-confirm'
            elif t==8: label='mcs-disconnect'
            elif t in (25,26):
                ch=struct.unpack('>H',m[3:5])[0]
                l,p=per_len(m,6); data=m[p:]
                cn=chan.get(ch,'ch%d'%ch)
                if cn=='io':
                    fl=struct.unpack('<H',data[:2])[0]
                    if fl&0x40 and 'c2s' in f and not seen_info: label='io-client-info'; licensing=True; seen_info=True
                    elif licensing and fl&0x80:
                        label='io-license-%02x'%data[4]
                        if 's2c' in f and data[4] in (0xff,3): licensing=False
                    else:
                        licensing=False
                        pt=struct.unpack('<H',data[2:4])[0]&0xf
                        if pt==1: label='io-demand-active'
                        elif pt==3: label='io-confirm-active'
                        elif pt==6: label='io-deactivate-all'
                        elif pt==7: label='io-data-'+t2.get(data[14],'%02x'%data[14])
                        else: label='io-share-%d'%pt
                else:
                    label='svc-'+cn
                    if cn=='drdynvc' and len(data)>8:
                        label+='-'+dvccmd.get(data[8]>>4,'cmd%d'%(data[8]>>4))
            else: label='mcs-%d'%t
    labels[f]=label
    shutil.copy(os.path.join(src,f),os.path.join(dst,base+'-'+label+'.bin'))
