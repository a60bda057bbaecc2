import Foundation
import Testing
@testable import PipeKit

/// Every example pipeline has a test file, and they all pass through the CLI, in text and
/// in JUnit XML as CI systems read it.
@Suite struct ExamplesTestFilesTests {
    @Test func everyExampleHasATestFile() {
        for spec in Paths.files(in: Paths.pipelines, withExtension: "yaml") {
            let test = TestFile.path(forSpec: spec.path)
            #expect(FileManager.default.fileExists(atPath: test), "\(spec.lastPathComponent) has no test file")
        }
    }

    @Test func theExamplesTestFilesPass() async throws {
        let files = Paths.testFiles(in: Paths.pipelines).map(\.path)
        #expect(files.count == Paths.files(in: Paths.pipelines, withExtension: "yaml").count)
        let result = try await runPipe(["test"] + files)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("FAIL"))
    }

    @Test func theExamplesTestFilesLintClean() async throws {
        let result = try await runPipe(["lint", "--strict"] + Paths.testFiles(in: Paths.pipelines).map(\.path))
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.isEmpty)
    }

    @Test func theJUnitReportHasATestsuitePerFile() async throws {
        let files = Paths.testFiles(in: Paths.pipelines).map(\.path)
        let result = try await runPipe(["test", "--format", "junit"] + files)
        #expect(result.status == 0)
        let xml = try JUnitDocument(result.stdout)
        #expect(xml.root == "testsuites")
        #expect(xml.suites == files)
        #expect(xml.cases.count >= 2 * files.count)
        #expect(xml.failures.isEmpty)
    }
}
