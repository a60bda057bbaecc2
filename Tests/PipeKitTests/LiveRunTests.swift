import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// A run while its process is alive: SIGTERM and SIGHUP stop it as Ctrl-C does, a second
/// process cannot resume it, and once it is killed it can be resumed at once. The run store
/// refuses to let a run go on unrecorded.
@Suite final class LiveRunTests: Sendable {
    let folder: TemporaryFolder
    let spec: String
    let store: String
    /// `left` hangs until this is false.
    let hangLeft = Locked(true)
    let server: FakeLLMServer

    init() throws {
        folder = try TemporaryFolder("pipe-live")
        spec = folder.url.appendingPathComponent("chain.yaml").path
        // A timeout far longer than any test, so the hanging call is never retried meanwhile.
        let text = try String(contentsOfFile: RunEndToEndTests.chain, encoding: .utf8)
            .replacingOccurrences(of: "timeout: 5s", with: "timeout: 10m")
        try text.write(toFile: spec, atomically: true, encoding: .utf8)
        store = folder.url.appendingPathComponent("runs.db").path
        let hangLeft = hangLeft
        server = FakeLLMServer { request in
            if RunEndToEndTests.stage(of: request) == "left", hangLeft.withLock({ $0 }) { return .hang }
            return RunEndToEndTests.happy(request)
        }
        try server.start()
    }

    deinit { server.stop() }

    var environment: [String: String] {
        [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL,
            "ANTHROPIC_API_KEY": "k", "OPENAI_API_KEY": "k", "PIPE_STORE": store,
        ]
    }

    func calls(_ stage: String) -> Int {
        server.log.filter { RunEndToEndTests.stage(of: $0.request) == stage }.count
    }

    /// A run of the chain whose `left` stage has been called and hangs, and whose `right` has
    /// finished (and so is recorded).
    func runHangingAtLeft() async throws -> LivePipe {
        let run = try LivePipe(["run", spec], stdin: #"{"topic": "tides"}"#, environment: environment)
        #expect(try await run.waitForStderr("pipe: right: done"))
        while calls("left") == 0 { try await Task.sleep(for: .milliseconds(10)) }
        return run
    }

    @Test(arguments: [(SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")])
    func aSignalStopsTheRunLikeCtrlCAndItResumes(_ signal: Int32, _ name: String) async throws {
        let run = try await runHangingAtLeft()
        run.send(signal)
        let stopped = await run.finish()
        #expect(stopped.status == 128 + signal)
        #expect(stopped.stderr.contains("pipe: \(name) received; cancelling the calls in flight"))
        #expect(stopped.stderr.contains("pipe: interrupted by \(name); finished stages: plan, draft, right\n"))
        let id = try #require(try await RunStore(path: store).runs(limit: 1).first?.id)
        #expect(stopped.stderr.contains("pipe: run \(id); continue it with: pipe run \(spec) --resume \(id)\n"))

        hangLeft.withLock { $0 = false }
        let resumed = try await runPipe(["run", spec, "--resume", id], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(calls("plan") == 1 && calls("draft") == 1 && calls("right") == 1)
        #expect(calls("left") == 2 && calls("final") == 1)
    }

    @Test func aRunStillGoingCannotBeResumedUntilItsProcessIsGone() async throws {
        let run = try await runHangingAtLeft()
        let before = server.requestCount
        let listed = try await runPipe(["logs", "--json"], environment: environment)
        #expect(try JSONParser.parse(listed.stdout)[0]?["status"] == "running")

        let refused = try await runPipe(["run", spec, "--resume", "last"], environment: environment)
        #expect(refused.status == 2)
        let id = try #require(try await RunStore(path: store).runs(limit: 1).first?.id)
        #expect(refused.stderr.contains(
            "pipe: run \(id) is still running in process \(run.pid) on \(RunHolder.hostName()) since 20"))
        #expect(refused.stderr.contains("or stop it (kill \(run.pid)) and try again"))
        #expect(server.requestCount == before)
        #expect(try await RunStore(path: store).runs(limit: 10).count == 1)

        run.send(SIGKILL)
        #expect(await run.finish().status == SIGKILL)
        let afterKill = try await runPipe(["logs", "--json"], environment: environment)
        #expect(try JSONParser.parse(afterKill.stdout)[0]?["status"] == "interrupted")
        hangLeft.withLock { $0 = false }
        let resumed = try await runPipe(["run", spec, "--resume", "last"], environment: environment)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(calls("plan") == 1 && calls("draft") == 1 && calls("right") == 1)
        #expect(calls("left") == 2 && calls("final") == 1)
    }

    @Test(arguments: ["garbage", "directory", "/proc/version"])
    func anUnusableStoreStopsTheRunBeforeItStarts(_ kind: String) async throws {
        let path: String
        switch kind {
        case "garbage":
            path = folder.url.appendingPathComponent("garbage.db").path
            try Data("this is not an SQLite database, just text that is long enough to look at".utf8).write(to: URL(fileURLWithPath: path))
        case "directory":
            path = folder.url.path
        default:
            path = kind
        }
        let mock = Paths.pipelines.appendingPathComponent("research-report.yaml").path
        for quiet in [[], ["--quiet"]] {
            let result = try await runPipe(["run", "--mock", mock, "--store", path] + quiet, stdin: "tides")
            #expect(result.status == 2)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.contains("the run store \(path): "))
            #expect(result.stderr.contains(
                "pipe: nothing was run; run without a record with --no-store, or name another store with --store PATH\n"))
        }
        let unrecorded = try await runPipe(
            ["run", "--mock", "--quiet", "--no-store", mock], stdin: "tides", environment: ["PIPE_STORE": path])
        #expect(unrecorded.status == 0, "\(unrecorded.stderr)")
    }
}
