# The demo's images, from one file:
#   docker build --target producer -t REG/kafka-producer-callback:TAG .
#   docker build --target consumer -t REG/kafka-consumer:TAG .
#   docker build --target lab      -t REG/keda-kafka-lab:TAG .
# The builder compiles the binaries once (BuildKit/buildah cache mounts keep the cargo
# registry and target dir between builds); each runtime stage is distroless, runs as
# uid 1000 and needs no writable path. The lab image is for `lab lag` inside a cluster
# (kubectl run ... -- lag --brokers ... --watch 5), where the brokers' pod addresses resolve.

# The full Rust image carries the C/C++ toolchain, make and perl that librdkafka and its
# vendored OpenSSL (built from source by rdkafka-sys and openssl-src) need. The builder
# runs on the build machine's platform and cross-compiles for the target's: for
# linux/arm64 it adds the aarch64 C toolchain and Rust's aarch64 standard library, so a
# multi-platform build (docker buildx --platform linux/amd64,linux/arm64) needs no
# emulation. scripts/cross-check runs the same cross build outside a container.
FROM --platform=$BUILDPLATFORM rust:1.95-bookworm AS builder
ARG TARGETARCH
WORKDIR /src
# hadolint ignore=DL3008
RUN if [ "$TARGETARCH" = "arm64" ] && [ "$(dpkg --print-architecture)" != "arm64" ]; then \
      apt-get update \
      && apt-get install -y --no-install-recommends gcc-aarch64-linux-gnu g++-aarch64-linux-gnu libc6-dev-arm64-cross \
      && rm -rf /var/lib/apt/lists/* \
      && rustup target add aarch64-unknown-linux-gnu; \
    fi
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    . scripts/cross-env \
 && cargo build --release --locked --target "$CARGO_BUILD_TARGET" \
      --bin kafka-producer-callback --bin kafka-consumer --bin lab \
 && mkdir -p /out \
 && cp "target/$CARGO_BUILD_TARGET/release/kafka-producer-callback" \
       "target/$CARGO_BUILD_TARGET/release/kafka-consumer" \
       "target/$CARGO_BUILD_TARGET/release/lab" /out/

FROM gcr.io/distroless/cc-debian12:nonroot AS producer
COPY --from=builder /out/kafka-producer-callback /usr/local/bin/kafka-producer-callback
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/kafka-producer-callback"]

FROM gcr.io/distroless/cc-debian12:nonroot AS consumer
COPY --from=builder /out/kafka-consumer /usr/local/bin/kafka-consumer
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/kafka-consumer"]

FROM gcr.io/distroless/cc-debian12:nonroot AS lab
COPY --from=builder /out/lab /usr/local/bin/lab
USER 1000:1000
ENTRYPOINT ["/usr/local/bin/lab"]
