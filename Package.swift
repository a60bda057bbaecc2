// swift-tools-version: 6.1
import PackageDescription

#if canImport(Glibc)
import Glibc
#endif

/// How `pipe` is linked on Linux: with lld, the functions everyday commands run laid out side
/// by side (`scripts/hot-symbols.order`, from `scripts/hot-symbols.sh`), and, where glibc can
/// load them (2.36+), relative relocations packed (DT_RELR). The kernel maps code 64 KB around
/// each page touched and relocations are read in full at start: together these save a run
/// about 5 MB of peak memory (BENCHMARKS.md, "Memory").
let pipeLinkerFlags: [String] = {
    var flags = [
        "-use-ld=lld",
        "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/scripts/hot-symbols.order",
        "-Xlinker", "--no-warn-symbol-ordering",
    ]
    #if canImport(Glibc)
    var buffer = [CChar](repeating: 0, count: 64)  // "glibc 2.36"
    _ = confstr(Int32(_CS_GNU_LIBC_VERSION), &buffer, buffer.count)
    let text = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let version = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
    if version.count >= 2, (version[0], version[1]) >= (2, 36) {
        flags += ["-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"]
    }
    #endif
    return flags
}()

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
        // Child processes (command stages, stdio tool servers): one way to spawn.
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"]), .brew(["libyaml"])]
        ),
        // libcurl (HTTP), libpq (the PostgreSQL client: the work queue and run store of
        // `--queue postgres://...`) and OpenSSL's libcrypto (SHA-256 for fingerprints and hashes;
        // libcurl's TLS uses it too), opened where first needed (`pipe_curl_load`, `pipe_pq_load`,
        // `pipe_crypto_load`), not linked: with the 30 libraries they bring they were most of what
        // the dynamic loader did at every start, for commands that never use them (BENCHMARKS.md,
        // sessions 20 and 21). Their -dev packages (libcurl4-openssl-dev, libpq-dev, libssl-dev)
        // are for the headers.
        .target(name: "CLibraries", linkerSettings: [.linkedLibrary("dl")]),
        // The one SQLite setting Swift cannot make (a variadic C function), for the run store.
        .target(name: "CSQLiteOptions", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(
            name: "PipeKit",
            dependencies: [
                "CYAML", "CLibraries", "CSQLiteOptions", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            // ICU's C regex API (pattern matching with a step limit), already loaded with Foundation.
            linkerSettings: [.linkedLibrary("_FoundationICU", .when(platforms: [.linux]))]
        ),
        .executableTarget(
            name: "pipe",
            dependencies: [
                "PipeKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            linkerSettings: [.unsafeFlags(pipeLinkerFlags, .when(platforms: [.linux]))]
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
