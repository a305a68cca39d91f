// swift-tools-version:5.9
// The Swift package of PowerGym: the UniFFI-generated `PowerGym` module over the Rust library
// (`powergym-ffi`), linked as the `PowerGymFFI` XCFramework (the static library with the
// generated C header and `module.modulemap`). Run ./build.sh first: it builds the library,
// generates the bindings and lays out Sources/PowerGym and PowerGymFFI.xcframework as this
// manifest expects.
import PackageDescription

let package = Package(
    name: "PowerGym",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "PowerGym", targets: ["PowerGym"]),
    ],
    targets: [
        // libpowergym_ffi.a + Headers/{PowerGymFFI.h, module.modulemap}, per platform.
        .binaryTarget(name: "PowerGymFFI", path: "PowerGymFFI.xcframework"),
        // The generated PowerGym.swift (`import PowerGymFFI` at its top).
        .target(
            name: "PowerGym",
            dependencies: ["PowerGymFFI"],
            path: "Sources/PowerGym",
            linkerSettings: [
                // iana-time-zone (the gym's local time) reads the zone through CoreFoundation.
                .linkedFramework("CoreFoundation"),
            ]
        ),
        .testTarget(name: "PowerGymTests", dependencies: ["PowerGym"], path: "Tests/PowerGymTests"),
    ]
)
