#!/usr/bin/env python3
"""Relays loopback ports of this network namespace into other namespaces (scripts/cluster --netns).

    netns-relay.py [NS=PORT[,PORT...]] [@NS=PORT[,PORT...]] ...

NS=PORTS: for each PORT, listens on 127.0.0.1:PORT inside NS (a name under /run/netns) and connects
every accepted connection to 127.0.0.1:PORT of the namespace this process started in (the root
namespace of the cluster, where RabbitMQ, the info servers and PostgreSQL listen on loopback).
@NS=PORTS: the other way: listens on 127.0.0.1:PORT here and connects to 127.0.0.1:PORT inside NS
(a file server's control plane, so /healthz and /metrics stay on loopback and reachable from here).
Bytes are copied as they are: TLS stays end to end, so certificates made for 127.0.0.1 verify on
both sides, and the URLs in cluster.env are the same everywhere.

A socket keeps the namespace it was created in: the process enters a NS (setns(2) through libc)
only to create a listener there, or, in the thread of one relayed connection, to connect there.
One thread accepts; two threads per relayed connection copy (the traffic is control traffic:
broker events, info API calls, health checks).
Stops on SIGTERM/SIGINT. Prints "ready" on stdout once every listener is open.
"""

import ctypes
import os
import signal
import socket
import sys
import threading
import selectors

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: " + os.strerror(err))


def listeners(specs):
    """[(port, connect_ns, socket)] for every spec; back in the own namespace after.
    connect_ns: the namespace to connect in (None: the own one)."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    out = []
    try:
        for spec in specs:
            ns, _, ports = spec.partition("=")
            reverse = ns.startswith("@")
            ns = ns.lstrip("@")
            if not ns or not ports:
                raise SystemExit(f"netns-relay: bad argument '{spec}' (want [@]NS=PORT[,PORT...])")
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
            try:
                if not reverse:
                    setns(fd)
                for p in ports.split(","):
                    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    s.bind(("127.0.0.1", int(p)))
                    s.listen(128)
                    s.setblocking(False)
                    out.append((int(p), ns if reverse else None, s))
            finally:
                setns(own)
                os.close(fd)
    finally:
        os.close(own)
    return out


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def serve(conn, port, connect_ns):
    try:
        if connect_ns:  # this thread only: it connects there, then just copies bytes
            fd = os.open(f"/run/netns/{connect_ns}", os.O_RDONLY)
            try:
                setns(fd)
            finally:
                os.close(fd)
        up = socket.create_connection(("127.0.0.1", port), timeout=10)
        up.settimeout(None)
    except OSError:
        conn.close()
        return
    for s in (conn, up):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    back = threading.Thread(target=pump, args=(up, conn), daemon=True)
    back.start()
    pump(conn, up)
    back.join()
    conn.close()
    up.close()


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    sel = selectors.DefaultSelector()
    for port, connect_ns, s in listeners(sys.argv[1:]):
        sel.register(s, selectors.EVENT_READ, (port, connect_ns))
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            try:
                conn, _ = key.fileobj.accept()
            except BlockingIOError:
                continue
            conn.setblocking(True)
            threading.Thread(target=serve, args=(conn, *key.data), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
