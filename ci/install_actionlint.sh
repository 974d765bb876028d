#!/usr/bin/env bash
# Build actionlint into build/bin from the Go module proxy (its PyPI wrapper downloads from
# GitHub, which CI machines may not reach). Without Go on the machine, fetch a Go toolchain
# from the same proxy (module golang.org/toolchain) into build/go first. If even that fails,
# say so: ci/validators/ci_schemas.py then falls back to the GitHub workflow JSON schema, with a warning.
set -euo pipefail

ACTIONLINT_VERSION="v1.7.12"
GO_TOOLCHAIN="v0.0.1-go1.26.11.linux-amd64"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/bin"
mkdir -p "$bin"

go_binary="$(command -v go || true)"
if [ "${FETCH_GO_TOOLCHAIN:-0}" = 1 ]; then
  go_binary=""  # test the path a machine without Go takes
elif [ -z "$go_binary" ] && [ -x /usr/local/go/bin/go ]; then
  go_binary=/usr/local/go/bin/go
fi
if [ -z "$go_binary" ]; then
  toolchain="$root/build/go"
  if [ ! -x "$toolchain/golang.org/toolchain@$GO_TOOLCHAIN/bin/go" ]; then
    echo "Go not found: fetching the Go toolchain $GO_TOOLCHAIN from the Go module proxy"
    mkdir -p "$toolchain"
    archive="$toolchain/toolchain.zip"
    if ! curl -fsSL --retry 3 -o "$archive" "https://proxy.golang.org/golang.org/toolchain/@v/$GO_TOOLCHAIN.zip"; then
      echo "warning: could not fetch a Go toolchain; GitHub workflows will be checked against their JSON schema only" >&2
      exit 0
    fi
    (cd "$toolchain" && python3 -m zipfile -e "$archive" . && rm "$archive")
    chmod +x "$toolchain/golang.org/toolchain@$GO_TOOLCHAIN/bin/"* "$toolchain/golang.org/toolchain@$GO_TOOLCHAIN/pkg/tool/"*/*
  fi
  go_binary="$toolchain/golang.org/toolchain@$GO_TOOLCHAIN/bin/go"
fi

GOBIN="$bin" GOFLAGS=-mod=mod GOTOOLCHAIN=local "$go_binary" install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
"$bin/actionlint" -version | head -1
