# Corral's container image: the static (musl) `corral` binary, its config and
# its pre-compiled components, FROM scratch. Nothing is pulled and nothing is
# compiled here: build the binary first, then the image (.ci/image.sh does
# both and checks the result):
#
#   cargo build --locked --release --target x86_64-unknown-linux-musl -p corral
#   docker build --network none -t corral:dev .
#
# CORRAL_BIN is the binary's path inside the build context (default: where
# that cargo command puts it; .ci/image.sh stages it at target/image/corral).
#
# The image runs as 65532:65532 and needs no writable path: run it with a
# read-only root file system (`docker run --read-only`, Kubernetes
# `readOnlyRootFilesystem`). Layout: deploy/corral.toml.
FROM scratch

ARG CORRAL_BIN=target/x86_64-unknown-linux-musl/release/corral

LABEL org.opencontainers.image.title="corral" \
      org.opencontainers.image.description="An MCP host that runs WebAssembly tools under capability grants and limits" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY ${CORRAL_BIN} /usr/local/bin/corral
COPY deploy/corral.toml /etc/corral/corral.toml
# What the server's user owns: /var/lib/corral (the compile cache is created
# in it below) and the directories granted to the fs and notes tools (the
# .keep files only make git keep them). The classic builder chowns the
# destination of a directory COPY and its contents, not /var or /var/lib.
COPY --chown=65532:65532 deploy/image/state/ /var/lib/corral/

USER 65532:65532
# Pre-warm the compile cache: `check` loads every component of the config,
# compiling each into [engine] cache_dir (/var/lib/corral/cache, created
# 0700 and owned by 65532, as the cache requires of what it loads). A
# replica then loads them from the cache in milliseconds. Exec form: scratch
# has no shell.
RUN ["/usr/local/bin/corral", "check", "--config", "/etc/corral/corral.toml"]

EXPOSE 7070
ENTRYPOINT ["/usr/local/bin/corral"]
CMD ["serve", "--config", "/etc/corral/corral.toml"]
