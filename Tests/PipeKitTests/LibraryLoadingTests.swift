import Foundation
import Testing
@testable import PipeKit

/// libcurl, libpq and libcrypto are opened where `pipe` first needs them, not when it starts:
/// a command that calls no model, reads no PostgreSQL queue and hashes nothing runs without
/// them, and one that needs a library it cannot load says which, and which package has it. A
/// directory on `LD_LIBRARY_PATH` whose `libcurl.so.4`, `libpq.so.5` and `libcrypto.so.3` are
/// not libraries stands for a machine without them: the dynamic loader takes those files
/// first, and fails on them.
@Suite final class LibraryLoadingTests {
    let directory: URL
    let environment: [String: String]

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipe-libs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for name in ["libcurl.so.4", "libpq.so.5", "libcrypto.so.3"] {
            try Data("not a library\n".utf8).write(to: directory.appendingPathComponent(name))
        }
        environment = ["PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": directory.path, "PIPE_STORE": directory.appendingPathComponent("runs.db").path]
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// `lint` (a spec with a `pipeline:` stage too), a `--mock` run without a store and `logs`.
    @Test func lintARunOnMockAndLogsNeedNoneOfThem() async throws {
        let files = Paths.files(in: Paths.pipelines, withExtension: "yaml").map(\.path)
        #expect(files.contains { $0.hasSuffix("/team-of-teams.yaml") })
        let lint = try await runPipe(["lint", "--strict"] + files, environment: environment)
        #expect(lint.status == 0, "\(lint.stderr)")
        #expect(lint.stderr.isEmpty)

        let spec = Paths.pipelines.appendingPathComponent("research-report.yaml").path
        let run = try await runPipe(["run", "--mock", "--quiet", "--no-store", spec], stdin: "Tides\n", environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try JSONParser.parse(run.stdout)["article"]?.stringValue != nil)

        // A run recorded with the libraries, then listed without them.
        var withLibraries = environment
        withLibraries["LD_LIBRARY_PATH"] = nil
        let recorded = try await runPipe(["run", "--mock", "--quiet", spec], stdin: "Tides\n", environment: withLibraries)
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let logs = try await runPipe(["logs"], environment: environment)
        #expect(logs.status == 0, "\(logs.stderr)")
        #expect(logs.stdout.contains("succeeded"))
    }

    /// A recorded run hashes its spec (and a fingerprint a stage) before its first stage.
    @Test func aRecordedRunNamesTheLibcryptoItCannotLoad() async throws {
        let spec = Paths.pipelines.appendingPathComponent("research-report.yaml").path
        let run = try await runPipe(["run", "--mock", "--quiet", spec], stdin: "Tides\n", environment: environment)
        #expect(run.status == 127)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("pipe: cannot load libcrypto (\(directory.path)/libcrypto.so.3: "))
        #expect(run.stderr.contains("which pipe hashes fingerprints with: install it (Debian: apt-get install libssl3)"))
    }

    @Test func aRunThatCallsAModelNamesTheLibcurlItCannotLoadAndNotTheKey() async throws {
        let spec = directory.appendingPathComponent("one.yaml")
        try Data("version: 1\nmodels: { m: { provider: anthropic, model: x } }\ndefaults: { model: m, max_tokens: 16 }\nstages:\n  a: { prompt: \"{{ input }}\" }\n".utf8).write(to: spec)
        var environment = environment
        environment["ANTHROPIC_API_KEY"] = "sk-ant-secret-key"
        environment["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:9"
        let run = try await runPipe(["run", spec.path], stdin: "hi\n", environment: environment)
        #expect(run.status == 127)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains("pipe: cannot load libcurl (\(directory.path)/libcurl.so.4: "))
        #expect(run.stderr.contains("install it (Debian: apt-get install libcurl4)"))
        #expect(!run.stderr.contains("sk-ant-secret-key"))
    }

    @Test func aPostgreSQLQueueNamesTheLibpqItCannotLoad() async throws {
        let logs = try await runPipe(["logs", "--queue", "postgres://pipe:hunter2@127.0.0.1:9/runs"], environment: environment)
        #expect(logs.status == 2)
        #expect(logs.stderr.contains("cannot load libpq (\(directory.path)/libpq.so.5: "))
        #expect(logs.stderr.contains("install it (Debian: apt-get install libpq5)"))
        #expect(!logs.stderr.contains("hunter2"))
    }
}
