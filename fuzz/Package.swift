// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for every parser that reads bytes from an untrusted peer. A package of
// its own because its executables link only against libFuzzer: build them only with
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// which fuzz/run.sh does. See docs/RELIABILITY.md.
// gold cannot link the instrumented objects (it fails inside its DWARF reader); lld can.
let fuzzerLinking: [LinkerSetting] = [.unsafeFlags(["-use-ld=lld"])]

let package = Package(
    name: "swift-alts-fuzz",
    dependencies: [
        .package(name: "swift-alts", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
    ],
    targets: [
        // libFuzzer's driver entry point, declared for Swift.
        .target(name: "CFuzzerDriver"),
        // Credentials made once per fuzzing process, input slicing, seeds, the entry point.
        .target(
            name: "FuzzSupport",
            dependencies: ["CFuzzerDriver", .product(name: "ALTSIdentity", package: "swift-alts")]
        ),
        .executableTarget(
            name: "FuzzRecordFrames",
            dependencies: ["FuzzSupport", .product(name: "ALTSRecord", package: "swift-alts")],
            linkerSettings: fuzzerLinking
        ),
        .executableTarget(
            name: "FuzzHandshake",
            dependencies: [
                "FuzzSupport",
                .product(name: "ALTSHandshake", package: "swift-alts"),
                .product(name: "ALTSIdentity", package: "swift-alts"),
                .product(name: "ALTSRecord", package: "swift-alts"),
            ],
            linkerSettings: fuzzerLinking
        ),
        .executableTarget(
            name: "FuzzHandshakerService",
            dependencies: [
                "FuzzSupport",
                .product(name: "ALTSHandshakerService", package: "swift-alts"),
                .product(name: "ALTSHandshakerProto", package: "swift-alts"),
                .product(name: "ALTSHandshake", package: "swift-alts"),
                .product(name: "ALTSIdentity", package: "swift-alts"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            linkerSettings: fuzzerLinking
        ),
        .executableTarget(
            name: "FuzzEnvoyYAML",
            dependencies: ["FuzzSupport", .product(name: "ALTSProxyConfig", package: "swift-alts")],
            linkerSettings: fuzzerLinking
        ),
        .executableTarget(
            name: "FuzzProxyHTTP",
            dependencies: [
                "FuzzSupport",
                .product(name: "ALTSProxy", package: "swift-alts"),
                .product(name: "ALTSProxyConfig", package: "swift-alts"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: fuzzerLinking
        ),
    ],
    swiftLanguageModes: [.v6]
)
