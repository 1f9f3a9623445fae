# One image for all three binaries: pipeguard (CLI), pipeguard-webhook and pipeguard-operator.
#
#   docker build -t pipeguard:dev .
#   docker run --rm pipeguard:dev /usr/local/bin/pipeguard --help
#
# The same image is built without Docker (no daemon, no base image from a registry) by scripts/image/build.sh from
# Debian's packages (mmdebstrap + umoci; docs/image.md). Both run the same two scripts: runtime-packages.sh (which
# Debian packages the binaries need) and assemble-root.sh (the image's whole filesystem: binaries, their shared
# libraries, the CA bundle, /etc/passwd; no shell, no package manager). The final stage's USER, ENV, EXPOSE, CMD and
# the binaries must match build.sh's image config: tests/image/image_test.sh compares them. This Dockerfile itself is
# not built on the development machines (they have no container engine).

# --- build --------------------------------------------------------------------------------------------------------
FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DPIPEGUARD_BUILD_TESTS=OFF \
 && cmake --build build --target pipeguard pipeguard-webhook pipeguard-operator \
 && mkdir -p /out/bin \
 && cp build/cli/pipeguard build/webhook/pipeguard-webhook build/operator/pipeguard-operator /out/bin/ \
 && strip /out/bin/*
# The Debian packages that own the shared libraries the binaries load: the rootfs stage installs exactly these.
RUN bash scripts/image/runtime-packages.sh /out/bin/* >/out/runtime-packages.txt && cat /out/runtime-packages.txt

# --- rootfs: a clean Debian root with only those packages; assemble-root.sh takes the image's files from it ------
FROM debian:bookworm-slim AS rootfs
COPY --from=build /out/ /image-in/
COPY scripts/image/assemble-root.sh /image-in/assemble-root.sh
RUN apt-get update \
 && xargs -a /image-in/runtime-packages.txt apt-get install -y --no-install-recommends \
 && bash /image-in/assemble-root.sh /rootfs \
      /image-in/bin/pipeguard /image-in/bin/pipeguard-webhook /image-in/bin/pipeguard-operator

# --- runtime: nothing but what assemble-root.sh wrote -------------------------------------------------------------
FROM scratch
COPY --from=rootfs /rootfs/ /
ENV PATH=/usr/local/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# The Helm chart runs every container as 65532:65532 with a read-only root filesystem; /tmp is an emptyDir there.
USER 65532:65532
EXPOSE 8443
CMD ["/usr/local/bin/pipeguard-webhook", "--help"]
