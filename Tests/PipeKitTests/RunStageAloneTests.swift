import Foundation
import Testing
@testable import PipeKit

/// `pipe run --stage NAME --given STAGE=FILE`: one stage alone, its output its value, the
/// stages it reads given and checked.
@Suite struct RunStageAloneTests {
    /// A folder holding `article.yaml`.
    func folder() throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        try PipeTestCommandTests.spec.write(to: folder.url.appendingPathComponent("article.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    @Test func aStageRunsAloneFromGivenValues() async throws {
        let folder = try folder()
        let spec = folder.url.appendingPathComponent("article.yaml").path
        let given = folder.url.appendingPathComponent("writer.json").path
        try #"{"title": "Given title", "score": 4}"#.write(toFile: given, atomically: true, encoding: .utf8)
        let result = try await runPipe(
            ["run", "--mock", "--no-store", "--quiet", spec, "--stage", "editor", "--given", "writer=\(given)"], stdin: "tides")
        #expect(result.status == 0, "\(result.stderr)")
        // The editor's value alone (the mock's text names the stage and its prompt).
        #expect(result.stdout.hasPrefix("Mock output of stage editor (main), for: Edit the article titled Given title"))
    }

    @Test func aStageThatIsNotGivenWhatItReadsIsAUsageError() async throws {
        let folder = try folder()
        let spec = folder.url.appendingPathComponent("article.yaml").path
        let result = try await runPipe(["run", "--mock", "--no-store", spec, "--stage", "editor"], stdin: "tides")
        #expect(result.status == 2)
        #expect(result.stderr.contains("pipe: --stage editor reads `writer`: give --given writer=FILE.json"))
    }

    @Test func aGivenValueIsCheckedAgainstItsStagesSchema() async throws {
        let folder = try folder()
        let spec = folder.url.appendingPathComponent("article.yaml").path
        let given = folder.url.appendingPathComponent("writer.json").path
        try #"{"title": 3}"#.write(toFile: given, atomically: true, encoding: .utf8)
        let result = try await runPipe(
            ["run", "--mock", "--no-store", spec, "--stage", "editor", "--given", "writer=\(given)"], stdin: "tides")
        #expect(result.status == 2)
        #expect(result.stderr.contains("the value does not match the output schema of `writer`"))
        let unknown = try await runPipe(["run", "--mock", "--no-store", spec, "--stage", "edtor"], stdin: "tides")
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("the spec has no stage `edtor`; did you mean `editor`?"))
    }
}
