#!/usr/bin/env bash
# Generates the Kotlin and Swift bindings with the workspace's own uniffi-bindgen from the
# already-built powergym-ffi library, then compiles the Kotlin ones and runs JUnit on the
# JVM (Maven fetches Kotlin, JNA, coroutines, JUnit and sqlite-jdbc from Maven Central).
# The suite runs once per store: on PostgreSQL (a database per test on DATABASE_URL's server)
# and on SQLite (a file per test in a temporary directory). POWERGYM_TEST_STORES picks them
# (default "postgres,sqlite", as for pytest); the first run compiles, the others only run JUnit again.
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
mvn_args=(-B --no-transfer-progress -Duniffi.generated="$kotlin_out" -Dnative.dir="$target/debug")
goal=test
stores=${POWERGYM_TEST_STORES:-postgres,sqlite}   # as the Python suite reads it
for store in ${stores//,/ }; do
  echo "==> Kotlin suite on $store"
  started=$SECONDS
  # The forked test JVM inherits the environment (see TestStore.kt).
  POWERGYM_TEST_STORE=$store mvn "${mvn_args[@]}" "$goal"
  echo "==> Kotlin suite on $store passed in $((SECONDS - started)) s"
  goal=surefire:test
done
