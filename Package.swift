// swift-tools-version:6.2
import PackageDescription

/// Swift 6 language mode everywhere, plus the upcoming features Hummingbird itself builds with.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "custos",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "custos", targets: ["custos"]),
        .library(name: "MerkleLog", targets: ["MerkleLog"]),
        .library(name: "CustosDomain", targets: ["CustosDomain"]),
        .library(name: "CustosStorage", targets: ["CustosStorage"]),
        .library(name: "CustosWeb", targets: ["CustosWeb"]),
        .library(name: "CustosServer", targets: ["CustosServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.57.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV.git", from: "0.10.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // ID tokens of the provider's identity provider (JWS, JWKS): issue 28, part 4.
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
    ],
    targets: [
        // zlib's CRC-32 (see StoredZipWriter): zlib1g-dev on Debian, part of the macOS SDK.
        .systemLibrary(name: "CustosZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .target(
            name: "MerkleLog",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CustosDomain",
            dependencies: [
                "MerkleLog",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Resources/rulebook.json")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CustosStorage",
            dependencies: [
                "CustosDomain",
                "MerkleLog",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                // The audit fast paths talk to SQLiteNIO directly (see BulkInsert, auditLeafInputRows).
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CustosWeb",
            dependencies: [
                "CustosDomain",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Templates")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "CustosServer",
            dependencies: [
                "CustosDomain",
                "CustosStorage",
                "CustosWeb",
                "MerkleLog",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "JWTKit", package: "jwt-kit"),
                "CustosZlib",
            ],
            resources: [.copy("Resources")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "custos",
            dependencies: [
                "CustosServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "MerkleLogTests", dependencies: ["MerkleLog"], swiftSettings: swiftSettings),
        .testTarget(name: "CustosDomainTests", dependencies: ["CustosDomain", "MerkleLog"], resources: [.copy("Fixtures")], swiftSettings: swiftSettings),
        .testTarget(name: "CustosStorageTests", dependencies: ["CustosStorage", "MerkleLog", .product(name: "FluentSQL", package: "fluent-kit"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), .product(name: "SQLiteNIO", package: "sqlite-nio")], swiftSettings: swiftSettings),
        .testTarget(name: "CustosWebTests", dependencies: ["CustosWeb"], swiftSettings: swiftSettings),
        .testTarget(
            name: "CustosServerTests",
            dependencies: [
                "CustosServer",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "FluentSQL", package: "fluent-kit"),
                // The tests drive the OpenID Connect provider (oidc-provider-mock) as a browser would.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
