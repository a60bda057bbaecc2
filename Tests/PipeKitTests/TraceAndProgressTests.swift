import Foundation
import Testing
@testable import PipeKit

@Suite struct TraceAndProgressTests {
    static let schema: JSONSchema = {
        let url = Paths.root.appendingPathComponent("schemas/trace-event.schema.json")
        let value = (try? JSONParser.parse([UInt8]((try? Data(contentsOf: url)) ?? Data()))) ?? .null
        return try! JSONSchema(compiling: value, options: JSONSchemaOptions(assertFormat: true))
    }()

    @Test func theTraceValidatesAgainstItsSchemaAndNestsRunStageAttempt() async throws {
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: trace) }
        let spec = Paths.pipelines.appendingPathComponent("research-report.yaml").path
        let result = try await runPipe(["run", "--mock", "--quiet", "--trace", trace.path, spec], stdin: "tides")
        #expect(result.status == 0)
        let lines = try String(contentsOf: trace, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        for line in lines {
            let errors = Self.schema.validate(line)
            #expect(errors.isEmpty, "\(line.serialized()): \(errors)")
        }
        let events = lines.compactMap { $0["event"]?.stringValue }
        #expect(events.first == "run_start")
        #expect(events.last == "run_end")
        #expect(events.filter { $0 == "stage_start" }.count == 5)
        #expect(events.filter { $0 == "stage_end" }.count == 5)
        #expect(events.filter { $0 == "request" }.count == events.filter { $0 == "response" }.count)
        #expect(Set(lines.compactMap { $0["trace_id"]?.stringValue }).count == 1)
        // Every parent is a span of the trace: attempts under stages, stages under the run.
        let spans = Set(lines.compactMap { $0["span_id"]?.stringValue })
        let parents = lines.compactMap { $0["parent_span_id"]?.stringValue }
        #expect(parents.allSatisfy { spans.contains($0) })
        let run = lines[0]["span_id"]
        #expect(lines.filter { $0["event"] == "stage_start" }.allSatisfy { $0["parent_span_id"] == run })
        let stageSpans = Set(lines.filter { $0["event"] == "stage_start" }.compactMap { $0["span_id"]?.stringValue })
        #expect(lines.filter { $0["event"] == "request" }.allSatisfy { stageSpans.contains($0["parent_span_id"]?.stringValue ?? "") })
    }

    @Test func aRetryAndItsValidationFailureAreTraced() async throws {
        let pipeline = try compileSpec("""
            version: 1
            models: { m: { provider: mock } }
            defaults: { model: m }
            stages:
              s:
                prompt: "go"
                output: { schema: { type: integer } }
            """)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tracer = try TraceWriter(path: path, runID: "r1", traceID: TraceIDs.traceID())
        let provider = ScriptedProvider { _, call in call == 1 ? "\"seven\"" : "7" }
        let runner = try PipelineRunner(pipeline: pipeline, options: .init(retryPolicy: RetryPolicy(baseDelay: .milliseconds(1)))) {
            _ throws(ProviderError) in provider
        }
        tracer.runStarted(pipeline: pipeline.name, stages: 1)
        let result = await runner.run(input: "x") { tracer.record($0) }
        try tracer.runEnded(status: result.outcome.status, wall: result.wall, usage: result.usage, costUSD: result.costUSD)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(lines.map { $0["event"]?.stringValue ?? "" } == [
            "run_start", "stage_start", "request", "response", "validation_failed", "retry", "request", "response", "stage_end",
            "run_end",
        ])
        #expect(lines[4]["errors"]?[0]?.stringValue?.contains("expected integer") == true)
        #expect(lines.allSatisfy { Self.schema.validate($0).isEmpty })
    }

    /// A command stage has no model: its `stage_end` has none, and the schema agrees.
    @Test func aCommandStagesTraceValidatesAgainstTheSchema() async throws {
        let folder = try TemporaryFolder("trace-command")
        let spec = folder.url.appendingPathComponent("listing.yaml").path
        try """
            version: 1
            models: { m: { provider: mock } }
            stages:
              fetch:
                run: [echo, "{{ input }}"]
              sum:
                model: m
                prompt: "Summarise {{ fetch }}"
            output: "{{ sum }}"
            """.write(toFile: spec, atomically: true, encoding: .utf8)
        let trace = folder.url.appendingPathComponent("trace.jsonl").path
        let result = try await runPipe(["run", "--mock", "--quiet", "--no-store", "--trace", trace, spec], stdin: "tides")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        let fetchEnd = try #require(lines.first { $0["event"] == "stage_end" && $0["stage"] == "fetch" })
        #expect(fetchEnd["status"] == "succeeded" && fetchEnd["model"] == nil)
        #expect(lines.contains { $0["event"] == "stage_end" && $0["stage"] == "sum" && $0["model"] != nil })
        for line in lines {
            let errors = Self.schema.validate(line)
            #expect(errors.isEmpty, "\(line.serialized()): \(errors)")
        }
    }

    @Test func withoutATerminalProgressIsOnePlainLinePerStageEvent() async throws {
        let spec = Paths.pipelines.appendingPathComponent("research-report.yaml").path
        let result = try await runPipe(["run", "--mock", spec], stdin: "tides")
        let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("pipe: ") }
        #expect(lines.contains("pipe: researcher: started"))
        #expect(lines.contains { $0.hasPrefix("pipe: critic: done in ") })
        #expect(!result.stderr.contains("\u{1B}["))
        let quiet = try await runPipe(["run", "--mock", "--quiet", spec], stdin: "tides")
        #expect(quiet.stderr.isEmpty)
    }

    @Test func theLiveDisplayRedrawsInPlace() {
        let output = Locked<String>("")
        let progress = ProgressReporter(stages: ["a", "b"], mode: .live) { text in output.withLock { $0 += text } }
        progress.record(.stageStarted(unit: RunUnitID(stage: "a")))
        progress.finish()
        let text = output.withLock { $0 }
        #expect(text.contains("running"))
        #expect(text.contains("waiting"))
        #expect(text.contains("\u{1B}[2K"))
    }

    @Test func sha256KnownAnswers() {
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(String(repeating: "a", count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    /// A copy goes on from where the original was, and neither changes the other: a stage's
    /// fixed parts are hashed once, then each run's inputs after them (`Fingerprint.StageParts`).
    /// A digest can be taken, and hashing go on, any number of times.
    @Test func aCopyOfASHA256GoesOnByItself() {
        var prefix = SHA256()
        prefix.update("ab")
        var first = prefix, second = prefix
        first.update("c")
        second.update(Array("d".utf8))
        #expect(SHA256.hex(digest: first.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(digest: second.finalize()) == "a52d159f262b2c6ddb724a61840befc36eb30c88877a4030b65cbe86298449c9")
        #expect(SHA256.hex(digest: prefix.finalize()) == "fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603")
        prefix.update("d")
        #expect(prefix.finalize() == second.finalize())
    }

    /// Fingerprints (resume, `--cache`) must not change with how the bytes arrive: in pieces
    /// that end inside and on block boundaries, or from a sequence without contiguous storage.
    @Test func sha256OfPiecesIsTheDigestOfTheWhole() {
        let text = String(repeating: "a", count: 1000)
        let expected = "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"
        var pieces = SHA256()
        var rest = Substring(text)
        for size in [1, 63, 64, 100, 7, 128] {
            pieces.update(String(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        pieces.update(String(rest))
        var sequence = SHA256()
        sequence.update(text.utf8.lazy.map { $0 })
        for digest in [pieces.finalize(), sequence.finalize()] {
            #expect(digest.map { String($0, radix: 16).leftPadded(to: 2) }.joined() == expected)
        }
    }
}
