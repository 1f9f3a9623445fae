#!/usr/bin/env python3
"""Rolling restart of two pipeguard-webhook replicas under steady admission load: no request may fail.

  graceful_restart.py --build DIR [--rate 500] [--seconds 24] [--workers 8]
  graceful_restart.py --webhook BINARY --fixtures DIR ...

--build: a build tree with webhook/pipeguard-webhook and bench/write_fixtures (fixtures and a certificate are made
in a temporary directory); or --fixtures DIR holding config.yaml, context/, review.json, tls.crt, tls.key. Two replicas
listen on two loopback ports. A client sends --rate AdmissionReviews/s over --workers keep-alive connections,
each opened to a replica picked from the current endpoint list, as the API server does through a Service. The
script plays Kubernetes: it removes a replica from the endpoints (preStop), sends SIGTERM 1 s later, starts it
again when it has exited, adds it back once /readyz says 200, then does the same with the other replica.

Like Go's HTTP client, the client reopens a pooled connection that the server closed while it was idle, before
writing to it (nothing written: safe to retry); every request whose bytes were written and that got no valid
AdmissionReview back counts as failed. Exit status 0 only when no request failed and both restarts happened.
"""
import argparse
import atexit
import http.client
import json
import os
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time


class Replica:
    def __init__(self, name, binary, fixtures, port):
        self.name, self.binary, self.fixtures, self.port = name, binary, fixtures, port
        self.process = None

    def start(self):
        d = self.fixtures
        self.process = subprocess.Popen(
            [self.binary, "--config", f"{d}/config.yaml", "--context", f"{d}/context", "--tls-cert", f"{d}/tls.crt",
             "--tls-key", f"{d}/tls.key", "--listen", f"127.0.0.1:{self.port}", "--log-level", "warn"],
            stdout=subprocess.DEVNULL, stderr=open(f"{d}/{self.name}.log", "ab"))

    def ready(self):
        try:
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=1, context=insecure())
            c.request("GET", "/readyz")
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except OSError:
            return False

    def wait_ready(self, seconds=20):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited with {self.process.returncode} while starting")
            if self.ready():
                return
            time.sleep(0.05)
        raise SystemExit(f"{self.name} did not become ready")


def free_port():
    """A free loopback port. Each replica restarts on the same port, so it cannot be the server's own pick."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def insecure():
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Endpoints:
    """The Service: a list of replicas new connections are spread over."""

    def __init__(self, replicas):
        self.lock = threading.Lock()
        self.ready = list(replicas)
        self.next = 0

    def pick(self):
        with self.lock:
            replica = self.ready[self.next % len(self.ready)]
            self.next += 1
            return replica

    def remove(self, replica):
        with self.lock:
            self.ready.remove(replica)

    def add(self, replica):
        with self.lock:
            self.ready.append(replica)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = self.ok = self.failed = self.reopened_idle = self.connections = 0
        self.failures = []

    def add(self, **counts):
        with self.lock:
            for k, v in counts.items():
                setattr(self, k, getattr(self, k) + v)


def closed_by_peer(connection):
    """True when the server closed this idle connection (EOF is readable): Go's transport notices the same."""
    sock = connection.sock
    if sock is None:
        return True
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def worker(endpoints, body, interval, stop, stats):
    connection = None
    next_send = time.monotonic()
    while time.monotonic() < stop:
        now = time.monotonic()
        if now < next_send:
            time.sleep(next_send - now)
        next_send += interval
        if connection is not None and closed_by_peer(connection):
            connection.close()
            connection = None
            stats.add(reopened_idle=1)
        if connection is None:
            replica = endpoints.pick()
            connection = http.client.HTTPSConnection("127.0.0.1", replica.port, timeout=10, context=insecure())
            try:
                connection.connect()
            except OSError as e:  # nothing written yet: the API server's client would dial again
                connection = None
                stats.add(failed=1, failures=[f"connect to {replica.name}: {e}"])
                continue
            stats.add(connections=1)
        stats.add(sent=1)
        try:
            connection.request("POST", "/validate?timeout=10s", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            payload = response.read()
            review = json.loads(payload)
            if response.status != 200 or review.get("response", {}).get("uid") != "705ab4f5-6393-11e8-b7cc-42010a800002":
                raise ValueError(f"HTTP {response.status}")
            stats.add(ok=1)
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = None
        except (OSError, ValueError, http.client.HTTPException) as e:
            stats.add(failed=1, failures=[f"{type(e).__name__}: {e}"])
            connection.close()
            connection = None
    if connection is not None:
        connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build")
    parser.add_argument("--webhook")
    parser.add_argument("--fixtures")
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=24)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--ports", default="0,0", help="two loopback ports (0: pick free ones)")
    args = parser.parse_args()
    args.seconds = min(args.seconds, 120)
    if args.build:
        scratch = tempfile.mkdtemp(prefix="pipeguard-restart-")
        atexit.register(shutil.rmtree, scratch, True)
        subprocess.run([os.path.join(args.build, "bench", "write_fixtures"), scratch], check=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", os.path.join(scratch, "tls.key"), "-out", os.path.join(scratch, "tls.crt")],
                       check=True, stderr=subprocess.DEVNULL)
        args.fixtures = scratch
        args.webhook = args.webhook or os.path.join(args.build, "webhook", "pipeguard-webhook")
    if not args.webhook or not args.fixtures:
        parser.error("give --build DIR, or --webhook and --fixtures")
    body = open(os.path.join(args.fixtures, "review.json"), "rb").read()
    ports = [int(p) or free_port() for p in args.ports.split(",")]
    replicas = [Replica(f"replica-{i}", args.webhook, args.fixtures, p) for i, p in enumerate(ports)]
    for r in replicas:
        r.start()
    for r in replicas:
        r.wait_ready()
    endpoints = Endpoints(replicas)
    stats = Stats()
    stop = time.monotonic() + args.seconds
    interval = args.workers / args.rate
    threads = [threading.Thread(target=worker, args=(endpoints, body, interval, stop, stats)) for _ in range(args.workers)]
    for t in threads:
        t.start()
    restarts = 0
    try:
        time.sleep(2)
        for r in replicas:
            endpoints.remove(r)          # the endpoints controller drops the terminating pod; preStop sleeps
            time.sleep(1)
            r.process.send_signal(signal.SIGTERM)
            code = r.process.wait(timeout=30)
            if code != 0:
                raise SystemExit(f"{r.name} exited with {code} after SIGTERM")
            r.start()
            r.wait_ready()
            endpoints.add(r)
            restarts += 1
            time.sleep(2)
    finally:
        for t in threads:
            t.join()
        for r in replicas:
            r.process.send_signal(signal.SIGTERM)
            r.process.wait(timeout=30)
    achieved = stats.sent / args.seconds
    print(f"graceful_restart: {args.workers} keep-alive clients at {args.rate:.0f} req/s for {args.seconds:.0f} s "
          f"(achieved {achieved:.0f}/s), {restarts} rolling restarts (SIGTERM) of 2 replicas")
    print(f"  sent {stats.sent}, answered {stats.ok}, failed {stats.failed}; connections opened {stats.connections}, "
          f"idle connections closed by a draining replica and reopened before writing {stats.reopened_idle}")
    for f in stats.failures[:10]:
        print("  failure:", f)
    if stats.failed or restarts != len(replicas) or stats.sent == 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
