import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `record: { prompts: hash, outputs: hash }` and `--record-prompts`/`--record-outputs`: the
/// input, prompts and replies of a run are nowhere on disk or on the wire to a collector as
/// text (the store's bytes with its WAL, the trace, the cassette, the OTLP export), only as
/// `sha256:HEX (N bytes)`; stdout stays full; `--resume` and `--cache` still work where the
/// text is not needed, against the fake server.
@Suite("Hashed records", .serialized)
final class HashedRecordsTests: Sendable {
    /// Distinctive strings of the input, a prompt's own text and the replies.
    static let inputMarker = "ZEBRA-INPUT-7731"
    static let promptMarker = "PROMPT-OCELOT-5520"
    static let planMarker = "QUOKKA-PLAN-4410"
    static let replyMarker = "NARWHAL-REPLY-9902"
    static let markers = [inputMarker, promptMarker, planMarker, replyMarker]

    let folder: TemporaryFolder
    let spec: String
    let server: FakeLLMServer
    /// While true, stage `write` answers 400 (the run fails after `plan` succeeded).
    let failWrite = Locked(false)

    static func specText(record: String) -> String {
        """
        version: 1
        name: hashed
        \(record)
        models:
          claude: { provider: anthropic, model: claude-test }
        defaults: { model: claude, max_tokens: 200, retries: 0, timeout: 10s }
        stages:
          plan:
            prompt: "STAGE plan \(promptMarker): {{ input }}"
            output: { schema: { type: object, required: [idea], properties: { idea: { type: string } } } }
          write:
            prompt: "STAGE write: {{ plan.idea }}"
        output: "{{ write }}"
        """
    }

    init() throws {
        folder = try TemporaryFolder("pipe-hashed")
        spec = folder.url.appendingPathComponent("hashed.yaml").path
        try Self.specText(record: "record: { prompts: hash, outputs: hash }").write(toFile: spec, atomically: true, encoding: .utf8)
        let failWrite = failWrite
        server = FakeLLMServer { request in
            if request.prompt.contains("STAGE plan") { return .text(#"{"idea": "\#(Self.planMarker)"}"#) }
            if failWrite.withLock({ $0 }) { return .error(status: 400, message: "bad request") }
            return .text("\(Self.replyMarker) done")
        }
        try server.start()
    }

    deinit { server.stop() }

    func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = [
            "PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "k", "PIPE_STORE": folder.storePath,
        ]
        environment.merge(extra) { $1 }
        return environment
    }

    func calls(_ stage: String) -> Int { server.log.filter { $0.request.prompt.contains("STAGE \(stage)") }.count }

    /// Every byte of the run store: the database, its WAL and anything beside them.
    func storeBytes() throws -> [UInt8] {
        let directory = URL(fileURLWithPath: folder.storePath).deletingLastPathComponent()
        var bytes: [UInt8] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            var isDirectory: ObjCBool = false
            let path = directory.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            bytes += try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        }
        return bytes
    }

    static func leaked(_ bytes: [UInt8]) -> [String] {
        markers.filter { marker in bytes.firstRange(of: Array(marker.utf8)) != nil }
    }

    static var hashPattern: Regex<Substring> { #/sha256:[0-9a-f]{64} \(\d+ bytes\)/# }

    @Test func aHashedRunKeepsNoInputPromptOrReplyInTheStoreTraceCassetteOrExport() async throws {
        let receiver = try OTLPReceiver()
        defer { receiver.stop() }
        let trace = folder.url.appendingPathComponent("trace.jsonl").path
        let cassette = folder.url.appendingPathComponent("cassette.jsonl").path
        let result = try await runPipe(
            ["run", "--trace", trace, "--record", cassette, spec], stdin: Self.inputMarker,
            environment: environment([
                "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
                "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
            ]))
        #expect(result.status == 0, "\(result.stderr)")
        // The output is the user's: in full.
        #expect(result.stdout == "\(Self.replyMarker) done\n")
        // The model got the real prompts.
        #expect(server.log.contains { $0.request.prompt.contains(Self.inputMarker) && $0.request.prompt.contains(Self.promptMarker) })

        #expect(Self.leaked(try storeBytes()) == [])
        #expect(Self.leaked([UInt8](try Data(contentsOf: URL(fileURLWithPath: trace)))) == [])
        let recorded = try String(contentsOfFile: cassette, encoding: .utf8)
        #expect(Self.leaked(Array(recorded.utf8)) == [])
        #expect(recorded.contains("user: sha256:"))
        let spans = try receiver.spans()
        #expect(spans.contains { $0["name"] == "chat claude-test" })
        #expect(Self.leaked(try receiver.raw()) == [])
        #expect(Self.leaked(Array(result.stderr.utf8)) == [])
        // The export's content attributes carry the hashes instead.
        let chat = try #require(spans.first { $0["name"] == "chat claude-test" })
        #expect(OTLPExportTests.attribute(chat, "gen_ai.input.messages")?.stringValue?.contains("sha256:") == true)

        // `pipe logs` shows each hashed field as its hash and size, in text and JSON.
        let text = try await runPipe(["logs", "last"], environment: environment())
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains(Self.hashPattern))
        #expect(Self.leaked(Array(text.stdout.utf8)) == [])
        let json = try await runPipe(["logs", "last", "--json"], environment: environment())
        let log = try JSONParser.parse(json.stdout)
        let input = try #require(log["input"]?.stringValue)
        #expect(input == HashedText(Self.inputMarker).description)
        #expect(input.wholeMatch(of: Self.hashPattern) != nil)
        #expect(Self.leaked(Array(json.stdout.utf8)) == [])
        // The report page reads the store: hashes only (the spec's own templates may show).
        let page = folder.url.appendingPathComponent("report.html").path
        let report = try await runPipe(["report", "last", "-o", page], environment: environment())
        #expect(report.status == 0, "\(report.stderr)")
        #expect(Self.leaked([UInt8](try Data(contentsOf: URL(fileURLWithPath: page)))).filter { $0 != Self.promptMarker } == [])
    }

    /// `pipe eval --record` writes its cassette as the spec's `record:` says, as `pipe run` does
    /// (the spec is read after the cassette is opened).
    @Test func anEvalsCassetteFollowsTheSpecsRecord() async throws {
        let tests = folder.url.appendingPathComponent("hashed.test.yaml").path
        try """
            spec: hashed.yaml
            evals:
              - name: replied
                check: { path: output, contains: "done" }
            """.write(toFile: tests, atomically: true, encoding: .utf8)
        let dataset = folder.url.appendingPathComponent("golden.jsonl").path
        try #"{"input": "\#(Self.inputMarker)", "expected": {}}"#.appending("\n").write(toFile: dataset, atomically: true, encoding: .utf8)
        let cassette = folder.url.appendingPathComponent("eval.jsonl").path
        let result = try await runPipe(
            ["eval", "--quiet", "--tests", tests, "--dataset", dataset, "--record", cassette], environment: environment())
        #expect(result.status == 0, "\(result.stderr)")
        let recorded = try String(contentsOfFile: cassette, encoding: .utf8)
        #expect(Self.leaked(Array(recorded.utf8)) == [])
        #expect(recorded.contains("sha256:"))
    }

    @Test func theCommandLineHashesPromptsOfASpecWithoutRecordAndTheCacheStillMatches() async throws {
        try Self.specText(record: "").write(toFile: spec, atomically: true, encoding: .utf8)
        let first = try await runPipe(["run", "--record-prompts", "hash", "--cache", spec], stdin: Self.inputMarker, environment: environment())
        #expect(first.status == 0, "\(first.stderr)")
        // Replies are kept (outputs: full); the input and prompts are not.
        let bytes = try storeBytes()
        #expect(Set(Self.leaked(bytes)) == [Self.planMarker, Self.replyMarker])
        // The cache matches calls by the hash of the request: nothing is called again.
        let second = try await runPipe(["run", "--cache", spec], stdin: Self.inputMarker, environment: environment(["PIPE_RECORD_PROMPTS": "hash"]))
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout == first.stdout)
        #expect(calls("plan") == 1 && calls("write") == 1)
        #expect(!Self.leaked(try storeBytes()).contains(Self.inputMarker))
        let bad = try await runPipe(["run", spec], stdin: "x", environment: environment(["PIPE_RECORD_OUTPUTS": "hashed"]))
        #expect(bad.status == 2 && bad.stderr.contains("PIPE_RECORD_OUTPUTS must be `full` or `hash`"), "\(bad.stderr)")
    }

    @Test func resumeRunsHashedOutputStagesAgainAndNeedsTheInputGivenAgain() async throws {
        failWrite.withLock { $0 = true }
        let failed = try await runPipe(["run", "--quiet", spec], stdin: Self.inputMarker, environment: environment())
        #expect(failed.status == 1, "\(failed.stderr)")
        failWrite.withLock { $0 = false }
        #expect(calls("plan") == 1 && calls("write") == 1)

        // The input was kept as its hash: it must be given again, and be the same.
        let wrong = try await runPipe(["run", "--quiet", spec, "--resume", "last"], stdin: "another input", environment: environment())
        #expect(wrong.status == 3, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("is not the one run"), "\(wrong.stderr)")
        #expect(calls("plan") == 1)

        let resumed = try await runPipe(["run", spec, "--resume", "last"], stdin: Self.inputMarker, environment: environment())
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout == "\(Self.replyMarker) done\n")
        // `plan` succeeded, but its value was kept only as a hash: it runs again.
        #expect(calls("plan") == 2 && calls("write") == 2)
        #expect(Self.leaked(try storeBytes()) == [])
    }

    @Test func resumeReusesStagesWhoseOutputsAreKeptWhenOnlyPromptsAreHashed() async throws {
        try Self.specText(record: "record: { prompts: hash }").write(toFile: spec, atomically: true, encoding: .utf8)
        failWrite.withLock { $0 = true }
        let failed = try await runPipe(["run", "--quiet", spec], stdin: Self.inputMarker, environment: environment())
        #expect(failed.status == 1, "\(failed.stderr)")
        failWrite.withLock { $0 = false }
        let resumed = try await runPipe(["run", spec, "--resume", "last", "--input", "/dev/stdin"], stdin: Self.inputMarker, environment: environment())
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout == "\(Self.replyMarker) done\n")
        #expect(resumed.stderr.contains("reused"), "\(resumed.stderr)")
        #expect(calls("plan") == 1 && calls("write") == 2)
        #expect(!Self.leaked(try storeBytes()).contains(Self.inputMarker))
    }

    @Test func aHashedBatchOnPostgreSQLKeepsNoInputPromptOrReplyInItsRuns() async throws {
        let url = try await PostgresServer.shared().database()
        let input = folder.url.appendingPathComponent("items.jsonl").path
        try ["\"\(Self.inputMarker) one\"", "\"\(Self.inputMarker) two\""].joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let batch = try await runPipe(["batch", spec, "--input", input, "--queue", url, "--quiet"], environment: environment())
        #expect(batch.status == 0, "\(batch.stderr)")
        // The results are the user's own output: in full.
        #expect(batch.stdout.components(separatedBy: Self.replyMarker).count == 3, "\(batch.stdout)")
        #expect(calls("plan") == 2 && calls("write") == 2)
        let database = try await PostgresClient.open(url: url)
        let rows = try await database.withConnection { connection throws(PostgresError) in
            var rows: [String] = []
            for table in ["runs", "calls", "stages", "tool_calls"] {
                rows += try connection.query("SELECT t::text AS row FROM \(table) t").compactMap { $0["row"] }
            }
            return rows
        }
        #expect(rows.count >= 2 + 4 + 4)
        #expect(Self.leaked(Array(rows.joined(separator: "\n").utf8)) == [])
        #expect(rows.contains { $0.contains(HashedText(.string("\(Self.inputMarker) one")).description) })
    }

    @Test func aCassetteWithHashedPromptsReplaysAndOneWithHashedRepliesSaysItCannot() async throws {
        let cassette = folder.url.appendingPathComponent("prompts.jsonl").path
        let recorded = try await runPipe(
            ["run", "--quiet", "--record-outputs", "full", "--record", cassette, spec], stdin: Self.inputMarker, environment: environment())
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let lines = try String(contentsOfFile: cassette, encoding: .utf8)
        #expect(!lines.contains(Self.inputMarker) && lines.contains(Self.replyMarker))
        // Each live request is matched by its hash; nothing is called.
        let replayed = try await runPipe(["run", "--quiet", "--replay", cassette, spec], stdin: Self.inputMarker, environment: environment())
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(replayed.stdout == recorded.stdout)
        #expect(calls("plan") == 1 && calls("write") == 1)

        let hashedReplies = folder.url.appendingPathComponent("replies.jsonl").path
        let second = try await runPipe(["run", "--quiet", "--record", hashedReplies, spec], stdin: Self.inputMarker, environment: environment())
        #expect(second.status == 0, "\(second.stderr)")
        #expect(Self.leaked(Array(try String(contentsOfFile: hashedReplies, encoding: .utf8).utf8)) == [])
        let refused = try await runPipe(["run", "--quiet", "--replay", hashedReplies, spec], stdin: Self.inputMarker, environment: environment())
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("was recorded as its hash (record.outputs: hash)"), "\(refused.stderr)")
        #expect(calls("plan") == 2)
    }

    @Test func approvingARunWhoseInputIsHashedSaysToResumeItWithTheInput() async throws {
        let text = Self.specText(record: "record: { prompts: hash }").replacingOccurrences(
            of: "  write:\n", with: "  write:\n    approve: true\n")
        try text.write(toFile: spec, atomically: true, encoding: .utf8)
        let waiting = try await runPipe(["run", "--quiet", spec], stdin: Self.inputMarker, environment: environment())
        #expect(waiting.status == 5, "\(waiting.stderr)")
        let approve = try await runPipe(["approve", "last"], environment: environment())
        #expect(approve.status == 2)
        #expect(approve.stderr.contains("--resume") && approve.stderr.contains("--approve-all --input FILE"), "\(approve.stderr)")
        let resumed = try await runPipe(
            ["run", "--quiet", spec, "--resume", "last", "--approve-all"], stdin: Self.inputMarker, environment: environment())
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout == "\(Self.replyMarker) done\n")
        #expect(calls("plan") == 1 && calls("write") == 1)
    }
}
