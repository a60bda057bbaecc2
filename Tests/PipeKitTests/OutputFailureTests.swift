import Foundation
import Testing
@testable import PipeKit

/// Output that cannot be written (a full disk, a closed pipe) is an exit status and a message,
/// never a crash, and never a silent exit 0. `/dev/full` fails every write with ENOSPC.
@Suite(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
struct OutputFailureTests {
    let spec = Paths.pipelines.appendingPathComponent("research-report.yaml").path
    let input = Paths.pipelines.appendingPathComponent("research-report.input.txt").path
    let cycle = Paths.testdata.appendingPathComponent("lint/err/cycle.yaml").path

    @Test func aRunWhoseOutputCannotBeWrittenExits74AndStaysRecordedAndResumable() async throws {
        let folder = try TemporaryFolder("pipe-full")
        let store = folder.storePath
        let result = try await runPipe(
            ["run", "--mock", "--quiet", "--store", store, spec, "--input", input], stdout: .file("/dev/full"))
        #expect(result.status == 74)
        #expect(result.stderr.hasPrefix("pipe: cannot write standard output: No space left on device\n"), "\(result.stderr)")
        #expect(result.stderr.contains("is recorded; `pipe logs "))
        #expect(!result.stderr.contains("Fatal error"))

        let logs = try await runPipe(["logs", "last", "--json", "--store", store])
        #expect(logs.status == 0)
        let run = try JSONParser.parse(logs.stdout)
        #expect(run["status"] == "succeeded")
        #expect(run["output"]?["title"]?.stringValue?.isEmpty == false)

        let resumed = try await runPipe(["run", "--mock", "--quiet", "--store", store, spec, "--resume", "last"])
        #expect(resumed.status == 0)
        #expect(try JSONParser.parse(resumed.stdout) == run["output"])
    }

    @Test func aClosedPipeOnStdoutEndsQuietlyWith141() async throws {
        let lint = try await runPipe(["lint", cycle], stdout: .closedPipe)
        #expect(lint.status == 141)
        #expect(lint.stderr.isEmpty)
        let schema = try await runPipe(["schema"], stdout: .closedPipe)
        #expect(schema.status == 141)
        #expect(schema.stderr.isEmpty)
    }

    @Test func aTraceFileThatCannotBeWrittenFailsTheRunLoudly() async throws {
        let folder = try TemporaryFolder("pipe-full-trace")
        let result = try await runPipe([
            "run", "--mock", "--quiet", "--store", folder.storePath, "--trace", "/dev/full", spec, "--input", input,
        ])
        #expect(result.status == 74)
        #expect(result.stderr.hasPrefix("pipe: cannot write the trace file /dev/full: No space left on device\n"), "\(result.stderr)")
        let logs = try await runPipe(["logs", "last", "--json", "--store", folder.storePath])
        #expect(try JSONParser.parse(logs.stdout)["status"] == "succeeded")
    }

    /// Every command that prints on stdout fails with 74 and says so when it cannot.
    @Test(arguments: [
        ["schema"], ["graph", "PIPELINE"], ["lint", "--format", "json", "PIPELINE"], ["lint", "CYCLE"],
        ["run", "--mock", "--dry-run", "PIPELINE"], ["help", "lint"], ["--version"],
    ])
    func everyCommandExits74WhenStdoutIsFull(_ arguments: [String]) async throws {
        let arguments = arguments.map { $0 == "PIPELINE" ? spec : $0 == "CYCLE" ? cycle : $0 }
        let result = try await runPipe(arguments, stdout: .file("/dev/full"))
        #expect(result.status == 74)
        #expect(result.stderr.hasPrefix("pipe: cannot write standard output: No space left on device\n"), "\(result.stderr)")
    }

    @Test func checkJSONAndLogsExit74WhenStdoutIsFull() async throws {
        let folder = try TemporaryFolder("pipe-full-json")
        let schema = folder.url.appendingPathComponent("s.json").path
        try Data(#"{"type": "object"}"#.utf8).write(to: URL(fileURLWithPath: schema))
        let check = try await runPipe(["check-json", "--schema", schema, "--format", "json", "-"], stdin: "[1]", stdout: .file("/dev/full"))
        #expect(check.status == 74)
        #expect(check.stderr.contains("cannot write standard output"))

        _ = try await runPipe(["run", "--mock", "--quiet", "--store", folder.storePath, spec, "--input", input])
        let logs = try await runPipe(["logs", "--store", folder.storePath], stdout: .file("/dev/full"))
        #expect(logs.status == 74)
        #expect(logs.stderr.contains("cannot write standard output"))
    }
}
