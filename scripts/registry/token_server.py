#!/usr/bin/env python3
"""A minimal Docker registry token server (the `auth: token:` protocol of the distribution registry), for tests.

GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...] with `Authorization: Basic user:password`:
  - known user, right password -> 200 {"token", "access_token", "expires_in", "issued_at"} with an ES256 JWT that
    grants the requested actions (pull, push) on the requested repositories;
  - no or wrong credentials   -> 401 (anonymous access is never granted: tests exercise the credential path).
The JWT is signed with `openssl dgst` (no third-party Python modules); the header carries the libtrust key id
that docker-registry derives from the certificate in its rootcertbundle.

Each request is appended to --log as one JSON line {path, user, authorized, scopes}; passwords are never logged.
Only stdlib; serves plain HTTP, or HTTPS when --tls-cert/--tls-key are given. Listens on 127.0.0.1:--port (0 = any
free port) and writes the chosen port to --port-file once it listens.
"""
import argparse
import base64
import json
import ssl
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der_to_raw_ecdsa(der: bytes, size: int = 32) -> bytes:
    """ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> r || s, each `size` bytes (JWS ES256 form)."""
    def read_len(buf, i):
        n = buf[i]
        i += 1
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(buf[i:i + k], "big")
            i += k
        return n, i

    assert der[0] == 0x30
    _, i = read_len(der, 1)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n, i = read_len(der, i + 1)
        value = int.from_bytes(der[i:i + n], "big")
        out += value.to_bytes(size, "big")
        i += n
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--key", required=True, help="EC P-256 private key (PEM) that signs the tokens")
    ap.add_argument("--kid", required=True, help="libtrust key id of the key's certificate")
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--users", required=True, help="file with user:password lines")
    ap.add_argument("--log", required=True)
    ap.add_argument("--expires-in", type=int, default=300)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()

    users = {}
    with open(args.users) as f:
        for line in f:
            line = line.strip()
            if line and ":" in line:
                user, password = line.split(":", 1)
                users[user] = password
    log_lock = threading.Lock()

    def sign(claims: dict) -> str:
        header = {"typ": "JWT", "alg": "ES256", "kid": args.kid}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", args.key], input=signing_input.encode(),
                             capture_output=True, check=True).stdout
        return signing_input + "." + b64url(der_to_raw_ecdsa(der))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # quiet stderr; requests go to --log
            pass

        def reply(self, code, body: dict):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if code == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="pipeguard-test-token-server"')
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            scopes = query.get("scope", [])
            user = None
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                try:
                    u, p = base64.b64decode(auth[6:]).decode().split(":", 1)
                    if users.get(u) == p:
                        user = u
                    else:
                        user = ""  # presented, but wrong
                except Exception:
                    user = ""
            with log_lock, open(args.log, "a") as f:
                f.write(json.dumps({"path": url.path, "user": user if user else ("wrong" if user == "" else None),
                                    "authorized": bool(user), "scopes": scopes,
                                    "service": query.get("service", [""])[0]}) + "\n")
            if url.path != "/token":
                return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "only /token is served"}]})
            if not user:
                return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]})
            access = []
            for scope in scopes:
                for part in scope.split(" "):
                    fields = part.split(":")
                    if len(fields) >= 3 and fields[0] == "repository":
                        actions = [a for a in fields[-1].split(",") if a in ("pull", "push")]
                        access.append({"type": "repository", "name": ":".join(fields[1:-1]), "actions": actions})
            now = int(time.time())
            claims = {"iss": args.issuer, "sub": user, "aud": args.service, "exp": now + args.expires_in,
                      "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
            token = sign(claims)
            self.reply(200, {"token": token, "access_token": token, "expires_in": args.expires_in,
                             "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))})

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
