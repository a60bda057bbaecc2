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
    func everyExampleRunsOfflineWithMock(_ spec: URL) throws {
        let result = try runPipe(["run", "--mock", spec.path, "--input", Self.sampleInput(for: spec).path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.isEmpty)
        #expect(result.stderr.contains("total"))
        // Every stage succeeded on its first attempt: mock values match their schemas.
        #expect(!result.stderr.contains("retrying"))
    }

    @Test func researchReportOutputHasTheDeclaredShape() throws {
        let spec = Paths.pipelines.appendingPathComponent("research-report.yaml")
        let result = try runPipe(["run", "--mock", "--quiet", spec.path], stdin: "The history of tide prediction\n")
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let output = try JSONParser.parse(result.stdout)
        #expect(output["article"]?.stringValue != nil)
        #expect(output["verified"]?.boolValue != nil)
        #expect(output["critique"]?["score"]?.numberValue != nil)
    }

    @Test func aStringOutputIsRawTextUnlessJSONIsAsked() throws {
        let spec = Paths.pipelines.appendingPathComponent("meeting-notes.yaml")
        let input = Self.sampleInput(for: spec).path
        let raw = try runPipe(["run", "--mock", "--quiet", spec.path, "--input", input])
        #expect(raw.stdout.hasPrefix("Mock output of stage minutes"))
        let json = try runPipe(["run", "--mock", "--quiet", "--json", spec.path, "--input", input])
        #expect(try JSONParser.parse(json.stdout).stringValue?.hasPrefix("Mock output") == true)
    }

    @Test func pipelinesCompose() throws {
        let notes = Paths.pipelines.appendingPathComponent("meeting-notes.yaml")
        let first = try runPipe(["run", "--mock", "--quiet", notes.path, "--input", Self.sampleInput(for: notes).path])
        #expect(first.status == 0)
        let second = try runPipe(
            ["run", "--mock", "--quiet", Paths.pipelines.appendingPathComponent("research-report.yaml").path], stdin: first.stdout)
        #expect(second.status == 0)
    }

    @Test func anInputThatBreaksTheInputSchemaExitsThreeBeforeAnyCall() throws {
        let spec = Paths.pipelines.appendingPathComponent("support-triage.yaml").path
        let invalid = try runPipe(["run", "--mock", spec], stdin: #"{"subject": 5}"#)
        #expect(invalid.status == 3)
        #expect(invalid.stderr.contains("the input does not match the input schema"))
        #expect(!invalid.stderr.contains("total"))
        let notJSON = try runPipe(["run", "--mock", spec], stdin: "hello")
        #expect(notJSON.status == 3)
        #expect(notJSON.stderr.contains("the input is not JSON"))
        let empty = try runPipe(["run", "--mock", Paths.pipelines.appendingPathComponent("research-report.yaml").path], stdin: "")
        #expect(empty.status == 3)
    }

    @Test func anInvalidSpecExitsTwoWithTheLintDiagnostics() throws {
        let spec = Paths.testdata.appendingPathComponent("lint/err/unknown-field.yaml").path
        let result = try runPipe(["run", "--mock", spec], stdin: "x")
        #expect(result.status == 2)
        #expect(result.stderr.contains("[unknown-field]"))
        #expect(result.stdout.isEmpty)
    }

    @Test func aMissingAPIKeyIsReportedBeforeAnyCall() throws {
        let spec = Paths.pipelines.appendingPathComponent("research-report.yaml").path
        let result = try runPipe(["run", spec], stdin: "topic", environment: ["PATH": "/usr/bin:/bin"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("ANTHROPIC_API_KEY"))
        #expect(result.stderr.contains("--mock"))
    }

    @Test func dryRunPrintsThePlanAndCallsNothing() throws {
        let spec = Paths.pipelines.appendingPathComponent("research-report.yaml").path
        let result = try runPipe(["run", "--dry-run", spec], environment: ["PATH": "/usr/bin:/bin"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("plan for research-report: 5 stages in 4 steps"))
        #expect(result.stdout.contains("step 4: fact-checker, critic  (in parallel)"))
        #expect(result.stdout.contains("writer"))
        #expect(result.stdout.contains("strong (openai gpt-4.1), then fast (anthropic claude-haiku-4-5)"))
        #expect(result.stdout.contains("budget: max_tokens 80000, max_cost_usd $0.50, max_duration 5m00s"))
    }
}
