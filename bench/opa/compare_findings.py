#!/usr/bin/env python3
"""The equivalence check of bench/opa_compare.sh: seeds the representative review with one instance of each
problem both policies find, sends it to pipeguard-webhook and to OPA, and compares the (rule, JSON path) pairs of
their denials.

    compare_findings.py REVIEW_JSON PIPEGUARD_URL OPA_URL

Exits 0 and prints the shared pairs when both deny with the same findings; exits 1 and prints the difference
otherwise. Talks to loopback only; certificates are not verified (the benchmark's own self-signed one).
"""
import copy
import json
import re
import ssl
import sys
import urllib.request

# One of each: env by key name, URI password, sslmode=disable, Kafka SASL_PLAINTEXT, a TLS-verification switch,
# credentials over redis://, an AWS key ID, Spark --conf and --password on the command line, an untrusted image,
# the wrong service account. Values are made up for the benchmark.
SEEDED_ENV = [
    {"name": "DB_PASSWORD", "value": "Xq7-vR93pLm"},
    {"name": "PG_URL", "value": "postgresql://etl:Xq7-vR93pLm@db.internal:5432/x?sslmode=disable"},
    {"name": "KAFKA_SECURITY_PROTOCOL", "value": "SASL_PLAINTEXT"},
    {"name": "SSL_VERIFY", "value": "false"},
    {"name": "REDIS", "value": "redis://u:hunter22@cache:6379"},
    {"name": "UPLOAD_ID", "value": "AKIA2E0A8F3B244C9986"},
]
SEEDED_ARGS = ["--conf", "spark.hadoop.fs.s3a.secret.key=Zr8vK2mQ9xT4wL6p", "--password", "s3cr3tV4lue"]

FINDING = re.compile(r"([a-z-]+) at (/[^\s:]+):")


def seeded(review):
    review = copy.deepcopy(review)
    pod = review["request"]["object"]
    first = pod["spec"]["containers"][0]
    first["env"] = first["env"] + SEEDED_ENV
    first["args"] = first["args"] + SEEDED_ARGS
    pod["spec"]["containers"][1]["image"] = "docker.io/library/python:3.11"
    pod["spec"]["serviceAccountName"] = "default"
    return review


def findings(url, body):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=context, timeout=10) as reply:
        response = json.load(reply)["response"]
    message = response.get("status", {}).get("message", "")
    return response["allowed"], set(FINDING.findall(message))


def main():
    if len(sys.argv) != 4:
        print("usage: compare_findings.py REVIEW_JSON PIPEGUARD_URL OPA_URL", file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        body = json.dumps(seeded(json.load(f))).encode()
    pipeguard_allowed, pipeguard = findings(sys.argv[2], body)
    opa_allowed, opa = findings(sys.argv[3], body)
    if pipeguard_allowed or opa_allowed or pipeguard != opa or not pipeguard:
        print(f"the seeded review: pipeguard allowed={pipeguard_allowed}, OPA allowed={opa_allowed}", file=sys.stderr)
        for rule, path in sorted(pipeguard - opa):
            print(f"  only pipeguard: {rule} at {path}", file=sys.stderr)
        for rule, path in sorted(opa - pipeguard):
            print(f"  only OPA:       {rule} at {path}", file=sys.stderr)
        return 1
    print(f"both deny the seeded review with the same {len(pipeguard)} findings: "
          + ", ".join(f"{rule} {path}" for rule, path in sorted(pipeguard)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
