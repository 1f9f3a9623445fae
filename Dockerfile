# One image for all three binaries: pipeguard (CLI), pipeguard-webhook and pipeguard-operator.
#
#   docker build -t pipeguard:dev .
#   docker run --rm pipeguard:dev pipeguard --help
#
# NOTE: this Dockerfile has not been built on the development machines (they have no container engine); the e2e
# tests run the same binaries as local processes with the Helm chart in development mode (helm/pipeguard, devMode).
# Keep it simple: Debian packages only, exactly as scripts/install-deps.sh installs them.

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
# The Debian packages that own the shared libraries the binaries load: the runtime stage installs exactly these.
RUN for lib in $(ldd /out/bin/* | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u); do \
      real=$(readlink -f "$lib"); \
      dpkg -S "$lib" 2>/dev/null || dpkg -S "$real" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null \
        || { echo "no package owns $lib" >&2; exit 1; }; \
    done | cut -d: -f1 | sort -u >/out/runtime-packages.txt \
 && cat /out/runtime-packages.txt

# --- runtime ------------------------------------------------------------------------------------------------------
FROM debian:bookworm-slim
COPY --from=build /out/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && xargs -a /tmp/runtime-packages.txt apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt
COPY --from=build /out/bin/ /usr/local/bin/
# The Helm chart runs every container as 65532:65532 with a read-only root filesystem; /tmp is an emptyDir there.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT []
CMD ["pipeguard-webhook", "--help"]
