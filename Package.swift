// swift-tools-version:6.1
import PackageDescription

// Module plan: docs/ARCHITECTURE.md. Dependencies point one way only:
// COpenSSL <- ALTSRecord <- ALTSNIO; ALTSIdentity <- (handshake core) <- ALTSNIO; CLIs on top.
let package = Package(
    name: "swift-alts",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ALTSRecord", targets: ["ALTSRecord"]),
        .library(name: "ALTSNIO", targets: ["ALTSNIO"]),
        .library(name: "ALTSIdentity", targets: ["ALTSIdentity"]),
        .library(name: "ALTSHandshake", targets: ["ALTSHandshake"]),
        .library(name: "ALTSGRPC", targets: ["ALTSGRPC"]),
        .library(name: "ALTSHandshakerProto", targets: ["ALTSHandshakerProto"]),
        .library(name: "ALTSHandshakerService", targets: ["ALTSHandshakerService"]),
        .library(name: "ALTSProxyConfig", targets: ["ALTSProxyConfig"]),
        .library(name: "ALTSProxy", targets: ["ALTSProxy"]),
        .executable(name: "altsctl", targets: ["altsctl"]),
        .executable(name: "alts-bench", targets: ["ALTSBench"]),
        .executable(name: "server", targets: ["ALTSEchoServer"]),
        .executable(name: "client", targets: ["ALTSEchoClient"]),
        .executable(name: "handshaker", targets: ["ALTSHandshakerCommand"]),
        .executable(name: "alts-proxy", targets: ["ALTSProxyCommand"]),
        .executable(name: "httpbin", targets: ["ALTSHTTPBin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // OpenSSL's libcrypto: the AES-GCM and HMAC primitives of the record protocol.
        .systemLibrary(
            name: "COpenSSL",
            path: "Sources/COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // The ALTS record protocol: counters, crypters, framing. No NIO.
        .target(
            name: "ALTSRecord",
            dependencies: ["COpenSSL"]
        ),
        // Service-account identities: projects (trust domains), credentials, trust bundles.
        .target(
            name: "ALTSIdentity",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        // The handshake protocol (docs/PROTOCOL.md) as a pure state machine. No NIO.
        .target(
            name: "ALTSHandshake",
            dependencies: [
                "ALTSIdentity",
                "ALTSRecord",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // SwiftNIO channel handlers that put the record protocol on a channel.
        .target(
            name: "ALTSNIO",
            dependencies: [
                "ALTSRecord",
                "ALTSHandshake",
                "ALTSIdentity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // grpc-swift-2 transports that run gRPC over ALTS, and AuthInfo for RPC handlers.
        .target(
            name: "ALTSGRPC",
            dependencies: [
                "ALTSNIO",
                "ALTSHandshake",
                "ALTSIdentity",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Generated from Protos/ by Protos/generate.sh (committed; never generated in CI).
        .target(
            name: "ALTSEchoProto",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        .target(
            name: "ALTSHandshakerProto",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // grpc.gcp.HandshakerService over the same handshake core, and the client our binaries
        // use to hand their handshakes to it.
        .target(
            name: "ALTSHandshakerService",
            dependencies: [
                "ALTSHandshake",
                "ALTSHandshakerProto",
                "ALTSIdentity",
                "ALTSRecord",
                "ALTSNIO",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // What the binaries share: credential lookup, Go-style log lines, durations, lifecycle.
        .target(
            name: "ALTSCommandSupport",
            dependencies: [
                "ALTSIdentity",
                "ALTSNIO",
                "ALTSGRPC",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The helloworld Echo service (both proto package names) with its AuthInfo logging.
        .target(
            name: "ALTSEchoService",
            dependencies: [
                "ALTSEchoProto",
                "ALTSGRPC",
                "ALTSNIO",
                "ALTSCommandSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
            ]
        ),
        .executableTarget(
            name: "ALTSEchoServer",
            dependencies: [
                "ALTSHandshakerService",
                "ALTSEchoService",
                "ALTSCommandSupport",
                "ALTSGRPC",
                "ALTSNIO",
                "ALTSHandshake",
                "ALTSIdentity",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "ALTSEchoClient",
            dependencies: [
                "ALTSHandshakerService",
                "ALTSEchoProto",
                "ALTSCommandSupport",
                "ALTSGRPC",
                "ALTSNIO",
                "ALTSHandshake",
                "ALTSIdentity",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ALTSHandshakerCommand",
            dependencies: [
                "ALTSHandshakerService",
                "ALTSHandshakerProto",
                "ALTSCommandSupport",
                "ALTSIdentity",
                "ALTSNIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Envoy v3 bootstrap YAML (the subset docs/PROXY.md lists) as a validated model. No NIO.
        .target(
            name: "ALTSProxyConfig",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // alts-proxy's data path: HTTP/1.1 and h2 downstream, pooled upstreams over ALTS, admin.
        .target(
            name: "ALTSProxy",
            dependencies: [
                "COpenSSL",
                "ALTSProxyConfig",
                "ALTSNIO",
                "ALTSHandshake",
                "ALTSHandshakerService",
                "ALTSIdentity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "ALTSProxyCommand",
            dependencies: [
                "ALTSProxy",
                "ALTSProxyConfig",
                "ALTSCommandSupport",
                "ALTSIdentity",
                "ALTSNIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // A tiny httpbin-like upstream for the proxy's demos, tests and benchmarks.
        .executableTarget(
            name: "ALTSHTTPBin",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Credentials, temporary directories and loopback helpers shared by the test targets.
        .target(
            name: "ALTSTestSupport",
            dependencies: [
                "ALTSIdentity",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Tests/ALTSTestSupport"
        ),
        .executableTarget(
            name: "altsctl",
            dependencies: [
                "ALTSIdentity",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "ALTSBench",
            dependencies: [
                "ALTSHandshakerService",
                "ALTSRecord",
                "ALTSHandshake",
                "ALTSIdentity",
                "ALTSNIO",
                "ALTSGRPC",
                "ALTSEchoProto",
                "ALTSEchoService",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "ALTSRecordTests",
            dependencies: ["ALTSRecord", "COpenSSL"],
            resources: [.copy("Vectors")]
        ),
        .testTarget(
            name: "ALTSNIOTests",
            dependencies: [
                "ALTSNIO",
                "ALTSRecord",
                "ALTSHandshake",
                "ALTSIdentity",
                "ALTSTestSupport",
                "COpenSSL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ALTSHandshakeTests",
            dependencies: ["ALTSHandshake", "ALTSIdentity", "ALTSRecord", "ALTSTestSupport"]
        ),
        .testTarget(
            name: "ALTSGRPCTests",
            dependencies: [
                "ALTSGRPC",
                "ALTSNIO",
                "ALTSHandshake",
                "ALTSIdentity",
                "ALTSTestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ALTSEndToEndTests",
            dependencies: [
                "ALTSTestSupport",
                "ALTSEchoProto",
                "ALTSGRPC",
                "ALTSHandshake",
                "ALTSIdentity",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
            ]
        ),
        .testTarget(
            name: "ALTSHandshakerServiceTests",
            dependencies: [
                "ALTSHandshakerService",
                "ALTSHandshakerProto",
                "ALTSHandshake",
                "ALTSIdentity",
                "ALTSGRPC",
                "ALTSNIO",
                "ALTSTestSupport",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ]
        ),
        .testTarget(
            name: "ALTSIdentityTests",
            dependencies: [
                "ALTSIdentity",
                "ALTSTestSupport",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .testTarget(name: "ALTSInteropTests", dependencies: ["ALTSTestSupport"]),
        // Issue 7's fault tests: killed handshaker, resets mid-frame, slowloris, garbage floods
        // against the binaries, credential rotation under load, whole-session tampering.
        .testTarget(
            name: "ALTSFaultTests",
            dependencies: [
                "ALTSTestSupport",
                "ALTSNIO",
                "ALTSRecord",
                "ALTSHandshake",
                "ALTSIdentity",
                "ALTSGRPC",
                "ALTSHandshakerService",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "ALTSProxyConfigTests", dependencies: ["ALTSProxyConfig"]),
        // Builds and runs fuzz/ (a package of its own) for a minute: CI's fuzz smoke run.
        .testTarget(name: "ALTSFuzzSmokeTests", dependencies: ["ALTSTestSupport"]),
        .testTarget(
            name: "ALTSProxyTests",
            dependencies: [
                "ALTSProxy",
                "ALTSProxyConfig",
                "ALTSTestSupport",
                "ALTSIdentity",
                "ALTSNIO",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
