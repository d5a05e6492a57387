#!/usr/bin/env python3
"""Holds one HTTPS keep-alive connection across a certificate rotation.

usage: tls_keepalive_client.py ADDR PORT HOST CAFILE FLAGFILE NEWCAFILE
Prints one line per step: "first <status> <cert sha256>", then waits until
FLAGFILE exists (the test rotated the certificate), "second <status> <same
socket?>" on the same connection, and "fresh <status> <cert sha256>" on a new
connection verified against NEWCAFILE.
"""
import hashlib
import os
import socket
import ssl
import sys
import time

addr, port, host, cafile, flag, new_cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]


def connect(ca):
    ctx = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection((addr, port), timeout=5)
    return ctx.wrap_socket(raw, server_hostname=host)


def get(conn, path):
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return "eof"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return "eof"
        body += chunk
    return head.split(b" ")[1].decode()


def fingerprint(conn):
    return hashlib.sha256(conn.getpeercert(binary_form=True)).hexdigest()[:16]


conn = connect(cafile)
print("first", get(conn, "/first"), fingerprint(conn), flush=True)
deadline = time.time() + 20
while not os.path.exists(flag) and time.time() < deadline:
    time.sleep(0.05)
fd_before = conn.fileno()
print("second", get(conn, "/second"), "same-connection" if conn.fileno() == fd_before else "new", flush=True)
fresh = connect(new_cafile)
print("fresh", get(fresh, "/fresh"), fingerprint(fresh), flush=True)
