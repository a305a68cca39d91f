#!/usr/bin/env bash
# Generates the Kotlin and Swift bindings with the workspace's own uniffi-bindgen from the
# already-built powergym-ffi library, then compiles the Kotlin ones and runs JUnit on the
# JVM (Maven fetches Kotlin, JNA, coroutines and JUnit from Maven Central).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
lib=$target/debug/libpowergym_ffi.so
[ -f "$lib" ] || cargo build --locked -p powergym-ffi
kotlin_out=$root/powergym-ffi/kotlin/target/generated-sources/uniffi
swift_out=$root/powergym-ffi/swift/generated
rm -rf "$kotlin_out" "$swift_out"
"$target/debug/uniffi-bindgen" generate --library "$lib" --language kotlin --no-format --out-dir "$kotlin_out"
"$target/debug/uniffi-bindgen" generate --library "$lib" --language swift --no-format --out-dir "$swift_out"
cd "$root/powergym-ffi/kotlin"
mvn -B --no-transfer-progress -Duniffi.generated="$kotlin_out" -Dnative.dir="$target/debug" test
