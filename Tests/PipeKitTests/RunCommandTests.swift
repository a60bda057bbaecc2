import Foundation
import Testing
@testable import PipeKit

/// `pipe run` as a user runs it, offline with `--mock`.
@Suite struct RunCommandTests {
    static let examples = Paths.files(in: Paths.pipelines, withExtension: "yaml")

    static func sampleInput(for spec: URL) -> URL {
        let base = spec.deletingPathExtension()
        let text = base.appendingPathExtension("input.txt")
        return FileManager.default.fileExists(atPath: text.path) ? text : base.appendingPathExtension("input.json")
    }

    @Test(arguments: examples)
    func everyExampleRunsOfflineWithMock(_ spec: URL) async throws {
        let result = try await runPipe(["run", "--mock", "--json", spec.path, "--input", Self.sampleInput(for: spec).path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("total"))
        // Every stage succeeded on its first attempt: mock values match their schemas.
        #expect(!result.stderr.contains("retrying"))
        // The output has the keys the spec declares, each of the type the schemas give it.
        let output = try JSONParser.parse(result.stdout)
        let declared = DeclaredOutput(pipeline: try DeclaredOutput.compile(spec))
        #expect(declared.problems(in: output).isEmpty, "\(declared.problems(in: output))")
    }

    @Test func researchReportOutputHasTheDeclaredShape() async throws {
        let spec = Paths.pipelines.appendingPathComponent("research-report.yaml")
        let result = try await runPipe(["run", "--mock", "--quiet", spec.path], stdin: "The history of tide prediction\n")
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let output = try JSONParser.parse(result.stdout)
        #expect(output["article"]?.stringValue != nil)
        #expect(output["verified"]?.boolValue != nil)
        #expect(output["critique"]?["score"]?.numberValue != nil)
    }

    @Test func aStringOutputIsRawTextUnlessJSONIsAsked() async throws {
        let spec = Paths.pipelines.appendingPathComponent("meeting-notes.yaml")
        let input = Self.sampleInput(for: spec).path
        let raw = try await runPipe(["run", "--mock", "--quiet", spec.path, "--input", input])
        #expect(raw.stdout.hasPrefix("Mock output of stage minutes"))
        let json = try await runPipe(["run", "--mock", "--quiet", "--json", spec.path, "--input", input])
        #expect(try JSONParser.parse(json.stdout).stringValue?.hasPrefix("Mock output") == true)
    }

    @Test func pipelinesCompose() async throws {
        let folder = try TemporaryFolder()
        let notes = Paths.pipelines.appendingPathComponent("meeting-notes.yaml")
        let first = try await runPipe(
            ["run", "--mock", "--quiet", "--no-store", notes.path, "--input", Self.sampleInput(for: notes).path])
        #expect(first.status == 0)
        #expect(first.stdout.hasPrefix("Mock output of stage minutes"))
        let second = try await runPipe(
            ["run", "--mock", "--quiet", "--store", folder.storePath, Paths.pipelines.appendingPathComponent("research-report.yaml").path],
            stdin: first.stdout)
        #expect(second.status == 0)
        // The second pipeline's input is the first one's output (less the newline `pipe run`
        // ends it with), and its first stage's prompt carries it.
        let logs = try await runPipe(["logs", "last", "--json", "--store", folder.storePath])
        let run = try JSONParser.parse(logs.stdout)
        let text = String(first.stdout.dropLast())
        #expect(run["input"] == .string(text))
        let researcher = run["calls"]?.arrayValue?.first { $0["stage"]?.stringValue == "researcher" }
        let prompt = researcher?["request"]?["messages"]?[0]?["content"]?.stringValue
        #expect(prompt?.contains("Topic: \(text)") == true, "\(prompt ?? "no call of researcher")")
    }

    @Test func anInputThatBreaksTheInputSchemaExitsThreeBeforeAnyCall() async throws {
        let spec = Paths.pipelines.appendingPathComponent("support-triage.yaml").path
        let invalid = try await runPipe(["run", "--mock", spec], stdin: #"{"subject": 5}"#)
        #expect(invalid.status == 3)
        #expect(invalid.stderr.contains("the input does not match the input schema"))
        #expect(!invalid.stderr.contains("total"))
        let notJSON = try await runPipe(["run", "--mock", spec], stdin: "hello")
        #expect(notJSON.status == 3)
        #expect(notJSON.stderr.contains("the input is not JSON"))
        let empty = try await runPipe(["run", "--mock", Paths.pipelines.appendingPathComponent("research-report.yaml").path], stdin: "")
        #expect(empty.status == 3)
    }

    @Test func anInvalidSpecExitsTwoWithTheLintDiagnostics() async throws {
        let spec = Paths.testdata.appendingPathComponent("lint/err/unknown-field.yaml").path
        let result = try await runPipe(["run", "--mock", spec], stdin: "x")
        #expect(result.status == 2)
        #expect(result.stderr.contains("[unknown-field]"))
        #expect(result.stdout.isEmpty)
    }

    @Test func aMissingAPIKeyIsReportedBeforeAnyCall() async throws {
        let spec = Paths.pipelines.appendingPathComponent("research-report.yaml").path
        let result = try await runPipe(["run", spec], stdin: "topic", environment: ["PATH": "/usr/bin:/bin"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("ANTHROPIC_API_KEY"))
        #expect(result.stderr.contains("--mock"))
    }

    @Test func aMissingKeyIsNamedForEachStageOfTheModelThatNeedsIt() async throws {
        // Each model's provider is made once, however many stages use it: still one line a stage.
        let folder = try TemporaryFolder()
        let spec = folder.url.appendingPathComponent("keys.yaml")
        try """
            version: 1
            models:
              a: { provider: anthropic, model: claude-haiku-4-5 }
              o: { provider: openai, model: gpt-4.1 }
            stages:
              first: { model: a, prompt: "one {{ input }}" }
              second: { model: o, prompt: "two {{ input }}" }
              third: { model: a, prompt: "three {{ input }}" }

            """.write(to: spec, atomically: true, encoding: .utf8)
        let result = try await runPipe(["run", spec.path], stdin: "topic", environment: ["PATH": "/usr/bin:/bin"])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(result.stderr)")
        #expect(lines.first?.hasPrefix("pipe: stage `first`, model `a`: ") == true, "\(result.stderr)")
        #expect(lines.first?.contains("ANTHROPIC_API_KEY") == true)
        #expect(lines.dropFirst().first?.hasPrefix("pipe: stage `second`, model `o`: ") == true, "\(result.stderr)")
        #expect(lines.dropFirst().first?.contains("OPENAI_API_KEY") == true)
        #expect(lines.dropFirst(2).first == lines.first?.replacingOccurrences(of: "`first`", with: "`third`"))
        #expect(lines.last == "pipe: nothing was called; set the key, or try the pipeline offline with --mock")
        #expect(result.stdout.isEmpty)
    }

    @Test func dryRunPrintsThePlanAndCallsNothing() async throws {
        let spec = Paths.pipelines.appendingPathComponent("research-report.yaml").path
        let result = try await runPipe(["run", "--dry-run", spec], environment: ["PATH": "/usr/bin:/bin"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("plan for research-report: 5 stages in 4 steps"))
        #expect(result.stdout.contains("step 4: fact-checker, critic  (in parallel)"))
        #expect(result.stdout.contains("writer"))
        #expect(result.stdout.contains("strong (openai gpt-4.1), then fast (anthropic claude-haiku-4-5)"))
        #expect(result.stdout.contains("budget: max_tokens 80000, max_cost_usd $0.50, max_duration 5m00s"))
    }

    /// `pipe run` starts libcurl (and OpenSSL) on a thread of its own as it starts: a run that
    /// ends before its first call exited while OpenSSL was starting there, and OpenSSL's
    /// teardown crashed the process (SIGSEGV) in some of those exits.
    @Test func aRunThatEndsBeforeItsFirstCallExitsWithItsOwnStatus() async throws {
        let folder = try TemporaryFolder()
        let spec = folder.url.appendingPathComponent("spec.yaml")
        try """
            version: 1
            models: { m: { provider: anthropic, model: claude-test } }
            stages:
              summary: { model: m, prompt: "Summarize: {{ input }}", max_tokens: 100 }

            """.write(to: spec, atomically: true, encoding: .utf8)
        for _ in 0..<40 {
            let result = try await runPipe(
                ["run", spec.path, "--resume", "nosuchrun"], environment: ["PATH": "/usr/bin:/bin", "ANTHROPIC_API_KEY": "test"])
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.contains("pipe: no run `nosuchrun`"), "\(result.stderr)")
        }
    }
}
