#!/usr/bin/env bash
# Builds the Swift package on macOS (Xcode command-line tools and rustup needed):
#   1. the Rust library, release, for each Apple target below (a static library each);
#   2. the Swift bindings, with the workspace's own uniffi-bindgen (so they match the library);
#   3. PowerGymFFI.xcframework: the static libraries with PowerGymFFI.h and module.modulemap;
#   4. Sources/PowerGym/PowerGym.swift.
# Then `swift build` / `swift test` here, or add this folder to an Xcode project as a local
# package. TARGETS="aarch64-apple-darwin" ./build.sh builds for one Mac only.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
target_dir=${CARGO_TARGET_DIR:-$root/target}
targets=${TARGETS:-"aarch64-apple-darwin x86_64-apple-darwin aarch64-apple-ios aarch64-apple-ios-sim"}
lib=libpowergym_ffi.a
cd "$root"

for t in $targets; do
    rustup target add "$t" >/dev/null
    cargo build --locked --release -p powergym-ffi --lib --target "$t"
done
# The bindings come from the host's build of the same library (bindgen reads its metadata).
cargo build --locked --release -p powergym-ffi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$target_dir/release/uniffi-bindgen" generate --library "$target_dir/release/libpowergym_ffi.dylib" \
    --language swift --out-dir "$work/generated"

# Clang and XCFrameworks look for `module.modulemap` beside the header.
mkdir -p "$work/headers"
cp "$work/generated/PowerGymFFI.h" "$work/headers/"
cp "$work/generated/PowerGymFFI.modulemap" "$work/headers/module.modulemap"

# One library per platform: slices of one platform (the two Macs) are merged with lipo.
args=()
macs=()
for t in $targets; do
    case $t in
        *-apple-darwin) macs+=("$target_dir/$t/release/$lib") ;;
        *) args+=(-library "$target_dir/$t/release/$lib" -headers "$work/headers") ;;
    esac
done
if [ ${#macs[@]} -gt 0 ]; then
    mkdir -p "$work/macos"
    lipo -create "${macs[@]}" -output "$work/macos/$lib"
    args+=(-library "$work/macos/$lib" -headers "$work/headers")
fi
rm -rf "$here/PowerGymFFI.xcframework"
xcodebuild -create-xcframework "${args[@]}" -output "$here/PowerGymFFI.xcframework"

mkdir -p "$here/Sources/PowerGym"
cp "$work/generated/PowerGym.swift" "$here/Sources/PowerGym/PowerGym.swift"
echo "built $here/PowerGymFFI.xcframework and Sources/PowerGym; now: cd $here && swift test"
