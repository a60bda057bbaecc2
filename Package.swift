// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "pipe",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "pipe", targets: ["pipe"]),
        .library(name: "PipeKit", targets: ["PipeKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),
        .target(
            name: "PipeKit",
            dependencies: ["CYAML", "CCurl", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .executableTarget(
            name: "pipe",
            dependencies: [
                "PipeKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // A fake LLM server (Anthropic- and OpenAI-shaped, with injectable faults) for tests and benchmarks.
        .target(name: "FakeLLM"),
        // Benchmarks: `swift run -c release pipe-bench --help`.
        .executableTarget(
            name: "pipe-bench",
            dependencies: ["PipeKit", "FakeLLM"]
        ),
        .testTarget(
            name: "PipeKitTests",
            // `pipe` is built with the tests: CLITests run it as a user does.
            dependencies: ["PipeKit", "FakeLLM", "pipe", .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ]
)
