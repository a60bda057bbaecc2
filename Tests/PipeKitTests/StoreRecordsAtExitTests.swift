import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `pipe run` writes its records behind the run, and leaves every call and stage in the store
/// however it ends: normally, on Ctrl-C, and when its output cannot be written (exit 74).
@Suite struct StoreRecordsAtExitTests {
    func environment(_ server: FakeLLMServer, store: String) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "OPENAI_BASE_URL": server.openAIBaseURL,
            "ANTHROPIC_API_KEY": "k", "OPENAI_API_KEY": "k", "PIPE_STORE": store,
        ]
    }

    /// The last run as `pipe logs --json` shows it.
    func lastRun(_ store: String) async throws -> JSONValue {
        let logs = try await runPipe(["logs", "last", "--json", "--store", store])
        #expect(logs.status == 0, "\(logs.stderr)")
        return try JSONParser.parse(logs.stdout)
    }

    func names(_ rows: JSONValue?, status: String) -> [String] {
        (rows?.arrayValue ?? []).filter { $0["status"]?.stringValue == status }.compactMap { $0["stage"]?.stringValue }
    }

    @Test func everyCallAndStageIsRecordedWhenTheRunEnds() async throws {
        let folder = try TemporaryFolder()
        let server = FakeLLMServer(handler: RunEndToEndTests.happy)
        try server.start()
        defer { server.stop() }
        let result = try await runPipe(
            ["run", "--quiet", RunEndToEndTests.chain], stdin: #"{"topic": "tides"}"#,
            environment: environment(server, store: folder.storePath))
        #expect(result.status == 0, "\(result.stderr)")
        let run = try await lastRun(folder.storePath)
        #expect(run["status"] == "succeeded")
        #expect(names(run["stages"], status: "succeeded").sorted() == ["draft", "final", "left", "plan", "right"])
        #expect(names(run["calls"], status: "ok").count == server.log.count)
    }

    @Test func everyFinishedStageIsRecordedAfterCtrlC() async throws {
        let folder = try TemporaryFolder()
        let server = FakeLLMServer { request in
            RunEndToEndTests.stage(of: request) == "left" ? .hang : RunEndToEndTests.happy(request)
        }
        try server.start()
        defer { server.stop() }
        let pipe = try LivePipe(
            ["run", RunEndToEndTests.chain], stdin: #"{"topic": "tides"}"#, environment: environment(server, store: folder.storePath))
        // `right` has ended in the run (and so was handed to the store) while `left` hangs.
        #expect(try await pipe.waitForStderr("pipe: right: done"))
        #expect(try await pipe.waitForStderr("pipe: left: started"))
        pipe.send(SIGINT)
        let result = await pipe.finish()
        #expect(result.status == 130, "\(result.stderr)")
        let run = try await lastRun(folder.storePath)
        #expect(run["status"] == "interrupted")
        #expect(names(run["stages"], status: "succeeded").sorted() == ["draft", "plan", "right"])
        #expect(names(run["stages"], status: "cancelled") == ["left"])
        #expect(names(run["calls"], status: "ok").sorted() == ["draft", "plan", "right"])
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
    func everyCallAndStageIsRecordedWhenTheOutputCannotBeWritten() async throws {
        let folder = try TemporaryFolder()
        let server = FakeLLMServer(handler: RunEndToEndTests.happy)
        try server.start()
        defer { server.stop() }
        let input = folder.url.appendingPathComponent("in.json").path
        try #"{"topic": "tides"}"#.write(toFile: input, atomically: true, encoding: .utf8)
        let result = try await runPipe(
            ["run", "--quiet", RunEndToEndTests.chain, "--input", input], environment: environment(server, store: folder.storePath),
            stdout: .file("/dev/full"))
        #expect(result.status == 74, "\(result.stderr)")
        let run = try await lastRun(folder.storePath)
        #expect(run["status"] == "succeeded")
        #expect(names(run["stages"], status: "succeeded").sorted() == ["draft", "final", "left", "plan", "right"])
        #expect(names(run["calls"], status: "ok").count == server.log.count)
    }
}
