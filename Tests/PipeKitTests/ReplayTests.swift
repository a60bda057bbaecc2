import FakeLLM
import Foundation
import Testing
@testable import PipeKit

/// `pipe run --record` against the fake server, then `--replay` offline: the same output,
/// no key in the cassette, and a miss that shows how the request changed.
@Suite struct ReplayTests {
    static let spec = """
        version: 1
        name: titles
        input: { schema: { type: string } }
        models:
          main: { provider: anthropic, model: claude-haiku-4-5 }
        defaults: { model: main, retries: 0 }
        stages:
          writer:
            prompt: |
              Write a title about {{ input }}.
              Keep it short.
            output: { schema: { type: object, required: [title], properties: { title: { type: string } } } }

        """

    @Test func aRecordedRunReplaysOfflineAndAnEditedPromptMisses() async throws {
        let folder = try TemporaryFolder()
        let spec = folder.url.appendingPathComponent("titles.yaml").path
        let cassette = folder.url.appendingPathComponent("titles.cassette.jsonl").path
        try Self.spec.write(toFile: spec, atomically: true, encoding: .utf8)
        let server = FakeLLMServer { _ in .text(#"{"title": "Recorded title"}"#) }
        _ = try server.start()
        let environment = ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL, "ANTHROPIC_API_KEY": "sk-secret-key-4242"]
        let recorded = try await runPipe(
            ["run", "--no-store", "--quiet", "--json", spec, "--record", cassette], stdin: "tides", environment: environment)
        server.stop()
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(server.log.count == 1)
        let text = try String(contentsOfFile: cassette, encoding: .utf8)
        #expect(!text.contains("sk-secret-key-4242"))
        #expect(!text.lowercased().contains("x-api-key"))
        #expect(!text.contains(server.baseURL))
        let entry = try JSONParser.parse(String(text.split(separator: "\n")[0]))
        #expect(entry["request"]?["stage"] == "writer")
        #expect(entry["model"] == "claude-haiku-4-5")
        #expect(entry["reply"] == #"{"title": "Recorded title"}"#)

        // The server is gone: the replay answers from the cassette, without a key.
        let replayed = try await runPipe(
            ["run", "--no-store", "--quiet", "--json", spec, "--replay", cassette], stdin: "tides",
            environment: ["PATH": "/usr/bin:/bin", "ANTHROPIC_BASE_URL": server.baseURL])
        #expect(replayed.status == 0, "\(replayed.stderr)")
        #expect(replayed.stdout == recorded.stdout)

        // An edited prompt is not in the cassette: the stage fails and shows what changed.
        try Self.spec.replacingOccurrences(of: "Keep it short.", with: "Keep it under five words.")
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let missed = try await runPipe(
            ["run", "--no-store", "--quiet", spec, "--replay", cassette], stdin: "tides", environment: ["PATH": "/usr/bin:/bin"])
        #expect(missed.status == 1)
        #expect(missed.stderr.contains("stage `writer` failed after 1 attempt"))
        #expect(missed.stderr.contains("the request of stage `writer` differs from the one recorded (- recorded, + now):"))
        #expect(missed.stderr.contains("  - Keep it short."))
        #expect(missed.stderr.contains("  + Keep it under five words."))

        // A test case with `replay:` answers from the cassette too; its input must match.
        try Self.spec.write(toFile: spec, atomically: true, encoding: .utf8)
        try """
            cases:
              - name: replayed
                input: tides
                replay: titles.cassette.jsonl
                expect: { output: { writer: { title: Recorded title } } }
              - name: another input misses
                input: waves
                replay: titles.cassette.jsonl
                expect: { exit: 1, stages: { writer: { status: failed } } }

            """.write(to: folder.url.appendingPathComponent("titles.test.yaml"), atomically: true, encoding: .utf8)
        let tested = try await runPipe(["test", spec])
        #expect(tested.status == 0, "\(tested.stdout)\(tested.stderr)")
    }

    @Test func aMissingOrBrokenCassetteIsAUsageError() async throws {
        let folder = try TemporaryFolder()
        let spec = folder.url.appendingPathComponent("titles.yaml").path
        try Self.spec.write(toFile: spec, atomically: true, encoding: .utf8)
        let missing = try await runPipe(["run", "--no-store", spec, "--replay", folder.url.appendingPathComponent("none.jsonl").path], stdin: "x")
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("pipe: --replay: cassette "))
        let broken = folder.url.appendingPathComponent("broken.jsonl").path
        try "{\"reply\": 1}\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let result = try await runPipe(["run", "--no-store", spec, "--replay", broken], stdin: "x")
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 1 is not a recorded call"))
    }
}
