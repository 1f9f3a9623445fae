#!/usr/bin/env python3
"""Writes a tiny OCI image layout (one gzip'd tar layer holding /hello.txt, a config blob, a manifest, index.json)
to DIR with the given tag; the content depends on --seed, so different seeds give different image digests.
Deterministic: the same seed always gives the same digest. Prints the manifest digest on stdout."""
import argparse
import gzip
import hashlib
import io
import json
import os
import tarfile


def put_blob(layout: str, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    with open(path, "wb") as f:
        f.write(data)
    return "sha256:" + digest


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("layout")
    ap.add_argument("--tag", default="latest")
    ap.add_argument("--seed", default="0")
    args = ap.parse_args()
    os.makedirs(os.path.join(args.layout, "blobs", "sha256"), exist_ok=True)

    content = f"hello from pipeguard test image, seed {args.seed}\n".encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    layer = gzip.compress(raw.getvalue(), mtime=0)
    layer_digest = put_blob(args.layout, layer)

    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": ["/hello.txt"], "Labels": {"pipeguard.test/seed": str(args.seed)}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "pipeguard make_oci_layout.py"}],
    }, separators=(",", ":")).encode()
    config_digest = put_blob(args.layout, config)

    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest,
                    "size": len(layer)}],
    }, separators=(",", ":")).encode()
    manifest_digest = put_blob(args.layout, manifest)

    index_path = os.path.join(args.layout, "index.json")
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != args.tag]
    index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
                               "size": len(manifest),
                               "annotations": {"org.opencontainers.image.ref.name": args.tag}})
    with open(index_path, "w") as f:
        json.dump(index, f)
    with open(os.path.join(args.layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    print(manifest_digest)


if __name__ == "__main__":
    main()
