# syntax=docker/dockerfile:1
# The nightly job's image: the static (musl) binary alone on `scratch`, run as a non-root user.
#
#   docker build -t velt-groups:0.1.0 .
#   docker run --rm --init -e VELT_API_KEY -e VELT_AUTH_TOKEN -v "$PWD:/work" \
#     velt-groups:0.1.0 import --org acme --state state.db --report report.xlsx hr-export.xlsx
#
# Everything the binary needs is inside it: TLS roots (webpki; mount a CA and pass --ca-file,
# or set SSL_CERT_FILE, for a private one), SQLite, and the workbook reader, which re-executes
# /proc/self/exe. `--init` (or shareProcessNamespace in Kubernetes) keeps it from being PID 1,
# which would ignore a SIGTERM that arrives before it installs its handler.

FROM rust:1-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
# The whole context, .git included, so that --version names the commit (build.rs).
COPY . .
ENV CC_x86_64_unknown_linux_musl=musl-gcc
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --locked --profile dist --target x86_64-unknown-linux-musl \
 && install -D -m 755 target/x86_64-unknown-linux-musl/dist/velt-groups /out/velt-groups \
 && /out/velt-groups --version \
 && mkdir -p /out/tmp /out/work \
 && chmod 1777 /out/tmp

FROM scratch
COPY --from=build /out/velt-groups /usr/local/bin/velt-groups
# Standard input and pipes are spooled to a temporary file.
# (COPY keeps the mode bits, 1777 here, but not the owner: /work gets its owner below.)
COPY --from=build /out/tmp /tmp
COPY --from=build --chown=65532:65532 /out/work /work
LABEL org.opencontainers.image.title="velt-groups" \
      org.opencontainers.image.description="Import an HR directory into Velt organization user groups" \
      org.opencontainers.image.licenses="MIT"
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/velt-groups"]
CMD ["--help"]
