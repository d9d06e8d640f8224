# Both images of the demo, from one file:
#   docker build --target producer -t REG/kafka-producer-callback:TAG .
#   docker build --target consumer -t REG/kafka-consumer:TAG .
# The builder compiles both binaries once (BuildKit/buildah cache mounts keep the cargo
# registry and target dir between builds); each runtime stage is distroless, runs as
# uid 1000 and needs no writable path.

# The full Rust image carries the C/C++ toolchain and make that librdkafka (built from
# source by rdkafka-sys) needs, so the builder installs nothing.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin kafka-producer-callback --bin kafka-consumer \
 && mkdir -p /out \
 && cp target/release/kafka-producer-callback target/release/kafka-consumer /out/

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
