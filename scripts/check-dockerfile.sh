#!/bin/sh
# Checks that the Dockerfile's dependency-cache stage still fits Cargo.toml: runs that stage's
# stand-in commands (the RUN after `COPY Cargo.toml Cargo.lock ./`) in a scratch copy of the
# manifest and the lock file, with `cargo fetch --locked` in place of the build. Cargo refuses a
# manifest whose declared targets are missing, so a new [[bench]] (or [[example]], [[test]])
# without a stand-in fails here, in seconds, instead of in the image build. .ci/run runs it,
# and so does tests/container.rs (with the crates already fetched, nothing is downloaded).
# DOCKERFILE=path checks another Dockerfile against this Cargo.toml (the test's broken copy).
set -eu
cd "$(dirname "$0")/.."
dockerfile="${DOCKERFILE:-Dockerfile}"

# The RUN instruction after the COPY of the manifest, with its continuation lines.
stage=$(awk '
  /^COPY Cargo.toml Cargo.lock/ { found = 1; next }
  found && !running && /^RUN / { sub(/^RUN /, ""); running = 1 }
  running { print; if ($0 !~ /\\$/) exit }
' "$dockerfile")
case "$stage" in
  *"cargo build"*) ;;
  *) echo "check-dockerfile: no RUN with cargo build after COPY Cargo.toml Cargo.lock in $dockerfile" >&2; exit 1 ;;
esac
# The build becomes a fetch for this machine's target (what the image builds): the same
# manifest checks, none of the compiling.
fetch="cargo fetch --locked --quiet --target $(rustc -vV | sed -n 's/^host: //p')"
stage=$(printf '%s\n' "$stage" | sed "s/cargo build [^&\\\\]*/$fetch /")

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp Cargo.toml Cargo.lock "$scratch/"
if ! (cd "$scratch" && sh -e -c "$stage"); then
  echo "check-dockerfile: the stand-ins of $dockerfile no longer satisfy Cargo.toml:" >&2
  echo "give every target Cargo.toml declares a stand-in in its dependency stage." >&2
  exit 1
fi
echo "check-dockerfile: the dependency stage's stand-ins satisfy Cargo.toml"
