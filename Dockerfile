# The demo's images, from one file:
#   docker build --target producer -t REG/kafka-producer-callback:TAG .
#   docker build --target consumer -t REG/kafka-consumer:TAG .
#   docker build --target lab      -t REG/keda-kafka-lab:TAG .
# The builder compiles the binaries once (BuildKit/buildah cache mounts keep the cargo
# registry and target dir between builds); each runtime stage is distroless, runs as
# uid 1000 and needs no writable path. The lab image is for `lab lag` inside a cluster
# (kubectl run ... -- lag --brokers ... --watch 5), where the brokers' pod addresses resolve.

# The full Rust image carries the C/C++ toolchain and make that librdkafka (built from
# source by rdkafka-sys) needs, so the builder installs nothing.
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin kafka-producer-callback --bin kafka-consumer --bin lab \
 && mkdir -p /out \
 && cp target/release/kafka-producer-callback target/release/kafka-consumer target/release/lab /out/

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
