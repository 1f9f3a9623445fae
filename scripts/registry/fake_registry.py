#!/usr/bin/env python3
"""A misbehaving OCI registry for the client's failure-path tests (the real docker-registry covers the happy paths).

Two HTTP servers on 127.0.0.1: "main" (the registry) and "storage" (a blob store on another port, i.e. another
origin, like S3 behind ECR). Ports go to --port-file as JSON {"main": P, "storage": P}. Content comes from --data:
  blobs/<hex>   blob and manifest bodies by sha256 hex
  tags/<tag>    the digest ("sha256:<hex>") a tag points at
Behaviour is chosen by the first component of the repository name in /v2/<repo>/...:
  slow/       sleeps --slow-seconds before answering
  drip/       sends headers, then the body one byte every 0.2 s;  driphead/: the headers one byte every 0.2 s
  big/        manifests: Content-Length of 8 MiB and that many bytes;  bigchunked/: 8 MiB chunked, no length
  redirect/   blobs: 307 to the storage origin with a presigned-style query that must arrive byte-exact
  relredirect/ blobs: 302 to a relative path on the same origin (/v2/target/blobs/<digest>)
  loop/       blobs: 302 to itself forever
  flaky/      the first 2 requests of each path answer 503 (Retry-After: 0), then normal
  ratelimited/ always 429 TOOMANYREQUESTS
  nodigest/   manifests without Docker-Content-Digest
  tampered/   manifests and blobs: a body that does not match the requested digest
  paged/      referrers: two pages linked with Link: <...>; rel="next";   manypages/: always another page
  anything else: normal (manifests by tag or digest, blobs by digest; referrers -> 404 like docker-registry 2.8)
With --basic-user USER:PASS the main server demands HTTP Basic auth (WWW-Authenticate: Basic) on /v2/ paths.
Every request is appended to --log as a JSON line {server, method, target, authorization (bool)}; header values
are never logged.
"""
import argparse
import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Shaped like an S3 presigned URL: every byte outside RFC 3986 unreserved is percent-encoded.
PRESIGNED_QUERY = ("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request"
                   "&X-Amz-Security-Token=IQo%2Bb3%2FJp%3D%3D&X-Amz-Date=20260101T000000Z&X-Amz-Signature=0a1b")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--basic-user")
    ap.add_argument("--slow-seconds", type=float, default=5.0)
    args = ap.parse_args()
    lock = threading.Lock()
    counters = {}
    ports = {}

    def log(server, handler):
        with lock, open(args.log, "a") as f:
            f.write(json.dumps({"server": server, "method": handler.command, "target": handler.path,
                                "authorization": "Authorization" in handler.headers}) + "\n")

    def read(kind, name):
        path = os.path.join(args.data, kind, name)
        if "/" in name or not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            return f.read()

    class Base(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def send(self, code, body=b"", headers=None, content_type="application/json"):
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def error(self, code, err, message, headers=None):
            body = json.dumps({"errors": [{"code": err, "message": message}]}).encode()
            self.send(code, body, headers)

    class Storage(Base):
        def do_GET(self):
            log("storage", self)
            path, _, query = self.path.partition("?")
            if not path.startswith("/storage/"):
                return self.error(404, "NOT_FOUND", "unknown storage path")
            if query != PRESIGNED_QUERY:
                return self.error(403, "SIGNATURE_MISMATCH", "query string was altered: " + query)
            if "Authorization" in self.headers:
                return self.error(400, "TWO_AUTH_MECHANISMS", "presigned URL plus Authorization header")
            body = read("blobs", path[len("/storage/"):])
            if body is None:
                return self.error(404, "BLOB_UNKNOWN", "no such blob")
            self.send(200, body, content_type="application/octet-stream")

    class Main(Base):
        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            log("main", self)
            path, _, query = self.path.partition("?")
            if args.basic_user and path.startswith("/v2/"):
                want = "Basic " + base64.b64encode(args.basic_user.encode()).decode()
                if self.headers.get("Authorization") != want:
                    return self.error(401, "UNAUTHORIZED", "authentication required",
                                      {"WWW-Authenticate": 'Basic realm="fake-registry"'})
            if path == "/v2/":
                return self.send(200, b"{}")
            parts = path[len("/v2/"):].split("/")
            if len(parts) < 3 or parts[-2] not in ("manifests", "blobs", "referrers"):
                return self.error(404, "NAME_UNKNOWN", "unknown path")
            repo, kind, ref = "/".join(parts[:-2]), parts[-2], parts[-1]
            mode = repo.split("/")[0]
            with lock:
                counters[path] = counters.get(path, 0) + 1
                count = counters[path]

            if mode == "slow":
                time.sleep(args.slow_seconds)
            if mode == "ratelimited":
                return self.error(429, "TOOMANYREQUESTS", "rate exceeded", {"Retry-After": "0"})
            if mode == "flaky" and count <= 2:
                return self.error(503, "UNAVAILABLE", "try again", {"Retry-After": "0"})
            if mode == "drip":
                self.send_response(200)
                self.send_header("Content-Type", OCI_MANIFEST)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                try:
                    for _ in range(1000):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.2)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            if mode == "driphead":
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Pad: " + b"x" * 1000 + b"\r\n"
                try:
                    for i in range(len(head)):
                        self.wfile.write(head[i:i + 1])
                        self.wfile.flush()
                        time.sleep(0.2)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True
                return
            if mode == "big" and kind == "manifests":
                size = 8 << 20
                self.send_response(200)
                self.send_header("Content-Type", OCI_MANIFEST)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                try:
                    for _ in range(size // 65536):
                        self.wfile.write(b" " * 65536)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            if mode == "bigchunked" and kind == "manifests":
                self.send_response(200)
                self.send_header("Content-Type", OCI_MANIFEST)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for _ in range(128):
                        self.wfile.write(b"10000\r\n" + b" " * 65536 + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return

            if kind == "referrers":
                if mode == "paged" or mode == "manypages":
                    page = 2 if "last=" in query else 1
                    manifests = [{"mediaType": OCI_MANIFEST, "digest": "sha256:" + str(page) * 64, "size": 1,
                                  "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json"}]
                    headers = {}
                    if mode == "manypages" or page == 1:
                        headers["Link"] = f'</v2/{repo}/referrers/{ref}?n=1&last=p{page}>; rel="next"'
                    body = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})
                    return self.send(200, body.encode(), headers, OCI_INDEX)
                return self.send(404, b"404 page not found\n", content_type="text/plain")

            if kind == "blobs":
                if mode == "redirect":
                    location = f"http://127.0.0.1:{ports['storage']}/storage/{ref.split(':')[-1]}?{PRESIGNED_QUERY}"
                    return self.send(307, b"", {"Location": location})
                if mode == "relredirect":
                    return self.send(302, b"", {"Location": f"/v2/target/blobs/{ref}"})
                if mode == "loop":
                    return self.send(302, b"", {"Location": path})
                body = read("blobs", ref.split(":")[-1])
                if body is None:
                    return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
                if mode == "tampered":
                    body = body + b" "
                return self.send(200, body, {"Docker-Content-Digest": ref}, "application/octet-stream")

            digest = ref if ref.startswith("sha256:") else (read("tags", ref) or b"").decode().strip()
            body = read("blobs", digest.split(":")[-1]) if digest else None
            if body is None:
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            if mode == "tampered":
                body = body.replace(b"}", b" }", 1)
            headers = {} if mode in ("nodigest", "tampered") else {"Docker-Content-Digest": digest}
            media_type = json.loads(body).get("mediaType", OCI_MANIFEST)
            self.send(200, body, headers, media_type)

    main_server = ThreadingHTTPServer(("127.0.0.1", 0), Main)
    storage_server = ThreadingHTTPServer(("127.0.0.1", 0), Storage)
    for s in (main_server, storage_server):
        s.daemon_threads = True
    ports.update(main=main_server.server_address[1], storage=storage_server.server_address[1])
    threading.Thread(target=storage_server.serve_forever, daemon=True).start()
    with open(args.port_file + ".tmp", "w") as f:
        json.dump(ports, f)
    os.replace(args.port_file + ".tmp", args.port_file)
    main_server.serve_forever()


if __name__ == "__main__":
    main()
