import Foundation
import Testing
@testable import PipeKit

/// The lint corpus, as in actionlint: `testdata/lint/ok/*.yaml` must produce no diagnostic;
/// each `testdata/lint/err/NAME.yaml` must produce exactly the diagnostics in `NAME.out`
/// (the text format, with source lines and carets). Adding a rule case means adding a pair
/// of files. `PIPE_UPDATE_GOLDEN=1 swift test --filter LintGolden` rewrites the .out files;
/// review the diff before committing.
@Suite struct LintGoldenTests {
    static let okDirectory = Paths.testdata.appendingPathComponent("lint/ok")
    static let errDirectory = Paths.testdata.appendingPathComponent("lint/err")

    static func lint(_ url: URL) throws -> (source: SourceFile, diagnostics: [Diagnostic]) {
        let (source, result) = try compile(url)
        return (source, result.diagnostics)
    }

    static func compile(_ url: URL) throws -> (source: SourceFile, result: Compiler.Result) {
        let source = SourceFile(path: url.lastPathComponent, bytes: [UInt8](try Data(contentsOf: url)))
        return (source, Compiler.compile(source, directory: url.deletingLastPathComponent().path))
    }

    @Test(arguments: Paths.files(in: okDirectory, withExtension: "yaml"))
    func cleanSpecHasNoDiagnostics(_ url: URL) throws {
        let (source, diagnostics) = try Self.lint(url)
        #expect(diagnostics.isEmpty, "\(TextFormat().render([LintedFile(source: source, diagnostics: diagnostics)]))")
    }

    @Test(arguments: Paths.files(in: errDirectory, withExtension: "yaml"))
    func badSpecHasExactlyTheExpectedDiagnostics(_ url: URL) throws {
        let (source, result) = try Self.compile(url)
        #expect(!result.diagnostics.isEmpty)
        // A diagnostic inside a child spec (`pipeline:`) is quoted from the child's file.
        let rendered = TextFormat().render(result.lintedFiles(source))
        let expectedURL = url.deletingPathExtension().appendingPathExtension("out")
        if ProcessInfo.processInfo.environment["PIPE_UPDATE_GOLDEN"] == "1" {
            try rendered.write(to: expectedURL, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: expectedURL, encoding: .utf8)
        #expect(rendered == expected)
    }

    @Test func everyRuleHasAFailingCase() throws {
        var seen = Set<RuleID>()
        for url in Paths.files(in: Self.errDirectory, withExtension: "yaml") {
            seen.formUnion(try Self.lint(url).diagnostics.map(\.rule))
        }
        // Those that start the tool servers have their cases in ToolCatalogTests.
        let missing = Set(RuleID.allCases).subtracting(seen).subtracting(RuleID.startingToolServers)
        #expect(missing.isEmpty, "rules with no case in testdata/lint/err: \(missing.map(\.rawValue).sorted())")
    }

    @Test(arguments: Paths.files(in: Paths.pipelines, withExtension: "yaml"))
    func examplePipelineLintsClean(_ url: URL) throws {
        let (source, diagnostics) = try Self.lint(url)
        #expect(diagnostics.isEmpty, "\(TextFormat().render([LintedFile(source: source, diagnostics: diagnostics)]))")
    }

    @Test(arguments: Paths.files(in: Paths.pipelines, withExtension: "yaml"))
    func examplePipelineHasASampleInputAndTheEditorModeline(_ url: URL) throws {
        let base = url.deletingPathExtension()
        let inputs = ["txt", "json"].map { base.appendingPathExtension("input.\($0)") }
        #expect(inputs.contains { FileManager.default.fileExists(atPath: $0.path) })
        let firstLine = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").first ?? ""
        #expect(firstLine == "# yaml-language-server: $schema=../schemas/pipeline.schema.json")
    }
}
