import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// Runs that never lose work: a run killed mid-way (Ctrl-C or SIGKILL) is resumed without
/// calling its finished stages again, and `--cache` answers identical calls from the store.
@Suite final class ResumeAndCacheTests: Sendable {
    let folder: TemporaryFolder
    var directory: URL { folder.url }
    let spec: String
    let store: String

    init() throws {
        folder = try TemporaryFolder("pipe-resume")
        spec = folder.url.appendingPathComponent("chain.yaml").path
        // `left` hangs until the test stops the run: a timeout of its own must not end it first
        // on a busy machine (the chain's 5 s one did, and the run exited 1 before the signal).
        let chain = try String(contentsOfFile: RunEndToEndTests.chain, encoding: .utf8)
        try chain.replacingOccurrences(of: "timeout: 5s", with: "timeout: 120s").write(toFile: spec, atomically: true, encoding: .utf8)
        store = folder.url.appendingPathComponent("runs.db").path
    }

    func environment(_ server: FakeLLMServer) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL,
            "ANTHROPIC_API_KEY": "k", "OPENAI_API_KEY": "k", "PIPE_STORE": store,
        ]
    }

    func calls(_ server: FakeLLMServer, _ stage: String) -> Int {
        server.log.filter { RunEndToEndTests.stage(of: $0.request) == stage }.count
    }

    /// Starts `pipe run`, waits until the `left` stage is being called (and hangs), then
    /// sends `signal`; returns the exit status.
    func interruptedRun(_ server: FakeLLMServer, signal: Int32) async throws -> Int32 {
        let process = Process()
        process.executableURL = Paths.pipeExecutable
        process.arguments = ["run", "--quiet", spec]
        process.environment = environment(server)
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.runUnblocked()
        input.fileHandleForWriting.write(Data(#"{"topic": "tides"}"#.utf8))
        try input.fileHandleForWriting.close()
        let start = ContinuousClock.now
        while calls(server, "left") == 0 || calls(server, "right") == 0, ContinuousClock.now - start < .seconds(20) {
            try await Task.sleep(for: .milliseconds(20))
        }
        // Let the store record `right`, which answers at once.
        try await Task.sleep(for: .milliseconds(200))
        kill(process.processIdentifier, signal)
        return await onOwnThread {
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    func resumeAfterInterruption(signal: Int32, expectedStatus: Int32) async throws {
        let hangLeft = Locked(true)
        let server = FakeLLMServer { request in
            if RunEndToEndTests.stage(of: request) == "left", hangLeft.withLock({ $0 }) { return .hang }
            return RunEndToEndTests.happy(request)
        }
        try server.start()
        defer { server.stop() }
        let status = try await interruptedRun(server, signal: signal)
        #expect(status == expectedStatus)
        hangLeft.withLock { $0 = false }
        // On a loaded machine the hanging call may have timed out and been retried once.
        let leftBefore = calls(server, "left")

        let resumed = try await runPipe(["run", spec, "--resume", "last"], environment: environment(server))
        #expect(resumed.status == 0, "\(resumed.stderr)")
        // Finished stages were not called again; `left` (in flight when killed) and `final` were.
        #expect(calls(server, "plan") == 1)
        #expect(calls(server, "draft") == 1)
        #expect(calls(server, "right") == 1)
        #expect(calls(server, "left") == leftBefore + 1)
        #expect(calls(server, "final") == 1)
        #expect(resumed.stderr.contains("reused"))

        // The same output as a run that was never interrupted.
        let fresh = try await runPipe(["run", "--quiet", "--no-store", spec], stdin: #"{"topic": "tides"}"#, environment: environment(server))
        #expect(fresh.status == 0)
        #expect(try JSONParser.parse(resumed.stdout) == JSONParser.parse(fresh.stdout))
    }

    @Test func aRunInterruptedWithCtrlCResumesWithoutRepeatingFinishedStages() async throws {
        try await resumeAfterInterruption(signal: SIGINT, expectedStatus: 130)
    }

    @Test func aRunKilledWithSIGKILLResumesWithoutRepeatingFinishedStages() async throws {
        try await resumeAfterInterruption(signal: SIGKILL, expectedStatus: SIGKILL)
    }

    @Test func theCacheReRunsOnlyAChangedStageAndWhatDependsOnIt() async throws {
        // `left` answers with its prompt, so that a change to it reaches `final`.
        let server = FakeLLMServer { request in
            RunEndToEndTests.stage(of: request) == "left" ? .text("left view of: \(request.prompt)") : RunEndToEndTests.happy(request)
        }
        try server.start()
        defer { server.stop() }
        let input = #"{"topic": "tides"}"#
        let first = try await runPipe(["run", "--cache", "--quiet", spec], stdin: input, environment: environment(server))
        #expect(first.status == 0, "\(first.stderr)")
        #expect(server.log.count == 5)
        let again = try await runPipe(["run", "--cache", "--quiet", spec], stdin: input, environment: environment(server))
        #expect(again.status == 0)
        #expect(server.log.count == 5)
        #expect(again.stdout == first.stdout)

        // Change the `left` stage's prompt: it and `final` (which reads it) run again.
        let text = try String(contentsOfFile: spec, encoding: .utf8)
            .replacingOccurrences(of: "STAGE left: {{ draft.text }}", with: "STAGE left: look at {{ draft.text }}")
        try text.write(toFile: spec, atomically: true, encoding: .utf8)
        let edited = try await runPipe(["run", "--cache", "--quiet", spec], stdin: input, environment: environment(server))
        #expect(edited.status == 0)
        #expect(calls(server, "left") == 2)
        #expect(calls(server, "final") == 2)
        #expect(calls(server, "plan") == 1 && calls(server, "draft") == 1 && calls(server, "right") == 1)

        // Without --cache, everything is called.
        _ = try await runPipe(["run", "--quiet", spec], stdin: input, environment: environment(server))
        #expect(server.log.count == 5 + 2 + 5)
    }

    @Test func anInvalidReplyIsNeverCached() async throws {
        let server = FakeLLMServer { request in
            RunEndToEndTests.stage(of: request) == "plan" && request.callNumber == 1
                ? .text(#"{"nope": 1}"#) : RunEndToEndTests.happy(request)
        }
        try server.start()
        defer { server.stop() }
        let input = #"{"topic": "tides"}"#
        _ = try await runPipe(["run", "--cache", "--quiet", spec], stdin: input, environment: environment(server))
        #expect(calls(server, "plan") == 2)
        // The first request's recorded reply was invalid: it is asked again, and this time answered well.
        _ = try await runPipe(["run", "--cache", "--quiet", spec], stdin: input, environment: environment(server))
        #expect(calls(server, "plan") == 3)
        // Now that request has a valid reply in the store.
        _ = try await runPipe(["run", "--cache", "--quiet", spec], stdin: input, environment: environment(server))
        #expect(calls(server, "plan") == 3)
    }

    @Test func twoRunsAtOnceShareTheStore() async throws {
        let mock = Paths.pipelines.appendingPathComponent("research-report.yaml").path
        async let a = runPipe(["run", "--mock", "--quiet", "--store", store, mock], stdin: "tides")
        async let b = runPipe(["run", "--mock", "--quiet", "--store", store, mock], stdin: "moons")
        let (first, second) = try await (a, b)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(second.status == 0, "\(second.stderr)")
        let runs = try await RunStore(path: store).runs(limit: 10)
        #expect(runs.count == 2)
        #expect(runs.allSatisfy { $0.status == .succeeded })
        let mode = try FileManager.default.attributesOfItem(atPath: store)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }
}
