# anova2mqtt container image: docker build -t anova2mqtt .
# The binary verifies TLS with built-in Mozilla roots, so the runtime image needs no CA store.

# --- Build -------------------------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /build

# Dependencies in their own layer, rebuilt only when Cargo.toml or Cargo.lock change: build
# them against empty stand-ins for our sources. Cargo refuses a manifest whose declared
# targets are missing, so every [[bench]], [[example]] or [[test]] with a path in Cargo.toml
# needs a stand-in here; .ci/run checks that this block still satisfies Cargo.toml
# (scripts/check-dockerfile.sh).
COPY Cargo.toml Cargo.lock ./
RUN mkdir src benches \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && echo 'fn main() {}' > benches/pipeline.rs \
 && cargo build --release --locked --no-default-features \
 && rm -rf src

# The daemon as shipped: without the demo's embedded broker (6.0 MB with the bundled SQLite of the cook history; the broker would add about 1.4 MB).
# Our sources. COPY keeps their old modification times, so touch them to make cargo rebuild
# the crate instead of reusing the stand-ins.
COPY src ./src
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --no-default-features \
 && install -m 0755 target/release/anova2mqtt /anova2mqtt \
 && install -d -m 0700 /data

# --- Runtime -----------------------------------------------------------------------------------
# glibc and libgcc only, no shell; runs as the unprivileged user "nonroot" (uid 65532), given
# by number so that Kubernetes' runAsNonRoot can check it without a passwd lookup.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="anova2mqtt" \
      org.opencontainers.image.description="Anova sous-vide cookers on MQTT and Home Assistant" \
      org.opencontainers.image.source="https://github.com/anova2mqtt/anova2mqtt" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
COPY --from=builder /anova2mqtt /usr/local/bin/anova2mqtt
# The cook history lives in the /data volume, owned by the user the daemon runs as (the image
# has no shell to make it, so the builder's empty directory is copied).
COPY --from=builder --chown=65532:65532 /data /data
ENV ANOVA2MQTT_HISTORY__PATH=/data/history.sqlite3
VOLUME ["/data"]
USER 65532:65532
# With the working directory at /, the default config search also finds
# /config/anova2mqtt.toml (as ./config/anova2mqtt.toml) when run without --config.
WORKDIR /

# Configuration: mount a file at /config/anova2mqtt.toml (found by the default search, and
# optional) and/or set ANOVA2MQTT_* variables; pass the token as a secret file through
# ANOVA2MQTT_ANOVA__TOKEN_FILE.
ENTRYPOINT ["/usr/local/bin/anova2mqtt"]
CMD ["run"]
