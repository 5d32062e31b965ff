# Where the built `batchsender` and the plugins are. BATCHSENDER_BIN, when set, stands for the debug
# build (scripts/test sets it to the one it built); a release build is always swift build's own.
# Usage: . scripts/lib/binary.sh; bin="$(bin_dir [debug|release])"; build_release PRODUCT...

bin_dir() {
  local configuration="${1:-debug}"
  if [ "$configuration" = debug ] && [ -n "${BATCHSENDER_BIN:-}" ]; then
    echo "$BATCHSENDER_BIN"
  else
    swift build -c "$configuration" --show-bin-path
  fi
}

# build_release PRODUCT...: each product built in release, quietly (the benchmarks measure release builds).
build_release() {
  local product
  for product in "$@"; do swift build -c release --product "$product" >/dev/null; done
}
