// swift-tools-version:6.3
import Foundation
import PackageDescription

/// A path dependency's identity is its folder name, which differs between checkouts (CI clones
/// into another folder), so it is read from this file's location.
let custos = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

/// Benchmarks live in their own package so the main build and CI's test build stay light.
/// Run: `cd Benchmarks && swift package --allow-writing-to-package-directory benchmark`
let package = Package(
    name: "custos-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "DemandIntake",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CustosDomain", package: custos),
                .product(name: "CustosStorage", package: custos),
            ],
            path: "Benchmarks/DemandIntake",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // A plain executable: one 1 GiB run compared with sha256sum in the same process tree.
        .executableTarget(
            name: "PackageBuild",
            dependencies: [
                .product(name: "CustosDomain", package: custos),
                .product(name: "CustosWeb", package: custos),
                .product(name: "CustosServer", package: custos),
                .product(name: "CustosStorage", package: custos),
            ],
            path: "Benchmarks/PackageBuild"
        ),
        // A plain executable: issue 6's log figures (durable appends, proofs at 10M leaves, verification).
        .executableTarget(
            name: "LogBench",
            dependencies: [
                .product(name: "CustosDomain", package: custos),
                .product(name: "CustosStorage", package: custos),
                .product(name: "CustosServer", package: custos),
                .product(name: "MerkleLog", package: custos),
            ],
            path: "Benchmarks/LogBench"
        ),
    ]
)
