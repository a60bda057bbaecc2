import Foundation
import Testing
@testable import PipeKit

/// `pipe lint`, `graph` and `schema` run as a user runs them: exit codes, stdout and stderr.
@Suite struct CLITests {
    let err = Paths.testdata.appendingPathComponent("lint/err")
    let example = Paths.pipelines.appendingPathComponent("research-report.yaml").path

    @Test func lintCleanExamplesExitsZeroAndPrintsNothing() async throws {
        let files = Paths.files(in: Paths.pipelines, withExtension: "yaml").map(\.path)
        let result = try await runPipe(["lint", "--strict"] + files)
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.isEmpty)
    }

    @Test func lintProblemsExitOneWithCompilerStyleDiagnosticsOnStdout() async throws {
        let result = try await runPipe(["lint", err.appendingPathComponent("unknown-field.yaml").path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("unknown-field.yaml:30:31: error: `researcher` has no field `key_finding` in its schema [unknown-field]"))
        #expect(result.stdout.contains("= hint: did you mean `key_findings`?"))
        #expect(result.stderr.contains("4 errors, 0 warnings in 1 file"))
    }

    @Test func warningsFailOnlyWithStrict() async throws {
        let spec = err.appendingPathComponent("unused-stage.yaml").path
        #expect(try await runPipe(["lint", spec]).status == 0)
        #expect(try await runPipe(["lint", "--strict", spec]).status == 1)
    }

    @Test func unreadableFileIsAUsageErrorExitTwo() async throws {
        let result = try await runPipe(["lint", "/nonexistent/spec.yaml"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("cannot read /nonexistent/spec.yaml: no such file"))
        #expect(try await runPipe(["lint"]).status == 2)
        #expect(try await runPipe(["lint", "--format", "xml", example]).status == 2)
    }

    @Test func dashReadsTheSpecFromStdin() async throws {
        let spec = "version: 1\nmodels: { m: { provider: mock } }\ndefaults: { model: m }\nstages:\n  a: { prompt: \"{{ inptu }}\" }\n"
        let result = try await runPipe(["lint", "-"], stdin: spec)
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("<stdin>:5:20: error: `inptu` is neither `input` nor a stage [unknown-reference]"))
    }

    @Test func jsonFormatIsMachineReadable() async throws {
        let result = try await runPipe(["lint", "--format", "json", err.appendingPathComponent("cycle.yaml").path])
        #expect(result.status == 1)
        let items = try JSONParser.parse(result.stdout).arrayValue ?? []
        #expect(items.count == 2)
        #expect(items.first?["rule"] == "cycle")
        #expect(items.first?["line"] == 9)
        #expect(items.first?["column"] == 22)
        #expect(try await runPipe(["lint", "--format", "json", example]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }

    @Test func githubFormatPrintsWorkflowAnnotations() async throws {
        let result = try await runPipe(["lint", "--format", "github", err.appendingPathComponent("unknown-need.yaml").path])
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("::error file=") == true)
        #expect(lines.first?.contains("unknown-need.yaml,line=9,col=13,endLine=9,endColumn=22,title=pipe lint%3A unknown-need::") == true)
        #expect(lines.first?.hasSuffix("(hint: did you mean `researcher`?)") == true)
    }

    @Test func sarifFormatIsSARIF210() async throws {
        let result = try await runPipe(["lint", "--format", "sarif", err.appendingPathComponent("unknown-key.yaml").path])
        let log = try JSONParser.parse(result.stdout)
        #expect(log["version"] == "2.1.0")
        let run = log["runs"]?[0]
        #expect(run?["tool"]?["driver"]?["name"] == "pipe")
        #expect(run?["tool"]?["driver"]?["rules"]?.arrayValue?.count == RuleID.allCases.count)
        let first = run?["results"]?[0]
        #expect(first?["ruleId"] == "unknown-key")
        #expect(first?["level"] == "error")
        let region = first?["locations"]?[0]?["physicalLocation"]?["region"]
        #expect(region?["startLine"] == 2)
        #expect(region?["startColumn"] == 1)
        let index = first?["ruleIndex"]?.numberValue?.intValue ?? -1
        #expect(run?["tool"]?["driver"]?["rules"]?[index]?["id"] == "unknown-key")
    }

    @Test func graphPrintsMermaidAndDot() async throws {
        let mermaid = try await runPipe(["graph", example])
        #expect(mermaid.status == 0)
        #expect(mermaid.stdout.hasPrefix("flowchart TD\n"))
        #expect(mermaid.stdout.contains("input --> s0"))
        #expect(mermaid.stdout.contains("s0[\"researcher<br/>"))
        let dot = try await runPipe(["graph", "--format", "dot", example])
        #expect(dot.stdout.hasPrefix("digraph \"research-report\" {"))
        #expect(dot.stdout.contains("\"editor\" -> \"fact-checker\";"))
        #expect(dot.stdout.contains("\"researcher\" -> \"fact-checker\";"))
        #expect(dot.stdout.contains("\"critic\" -> \"output\";"))
    }

    @Test func graphOfAnInvalidSpecExitsTwoWithDiagnosticsOnStderr() async throws {
        let result = try await runPipe(["graph", err.appendingPathComponent("cycle.yaml").path])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("[cycle]"))
    }

    @Test func schemaPrintsThePipelineSchemaFile() async throws {
        let file = try String(contentsOf: Paths.root.appendingPathComponent("schemas/pipeline.schema.json"), encoding: .utf8)
        let result = try await runPipe(["schema"])
        #expect(result.status == 0)
        #expect(result.stdout == file, "run scripts/embed-pipeline-schema.sh after editing schemas/pipeline.schema.json")
    }

    @Test func helpTeachesEachCommand() async throws {
        let help = try await runPipe(["help", "lint"])
        #expect(help.stdout.contains("--strict"))
        #expect(help.stdout.contains("Examples:"))
        #expect(try await runPipe(["--version"]).stdout == PipeVersion.current + "\n")
    }
}

/// The README's example spec and the diagnostic it shows stay true.
@Suite struct ReadmeTests {
    @Test func theReadmeExampleDiagnosticIsWhatLintPrints() throws {
        let readme = try String(contentsOf: Paths.root.appendingPathComponent("README.md"), encoding: .utf8)
        let yamlStart = try #require(readme.range(of: "```yaml\n# yaml-language-server"))
        let yamlEnd = try #require(readme.range(of: "```", range: yamlStart.upperBound..<readme.endIndex))
        let spec = String(readme[readme.index(yamlStart.lowerBound, offsetBy: 8)..<yamlEnd.lowerBound])
            .replacingOccurrences(of: "{{ researcher.key_findings }}", with: "{{ researcher.key_finding }}")
        let shownStart = try #require(readme.range(of: "```\npipelines/report.yaml"))
        let shownEnd = try #require(readme.range(of: "```", range: shownStart.upperBound..<readme.endIndex))
        let shown = String(readme[readme.index(shownStart.lowerBound, offsetBy: 4)..<shownEnd.lowerBound])

        let folder = try TemporaryFolder("pipe-readme")
        let directory = folder.url
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("pipelines/schemas"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Paths.pipelines.appendingPathComponent("schemas/research.schema.json"),
            to: directory.appendingPathComponent("pipelines/schemas/research.schema.json"))
        let source = SourceFile(path: "pipelines/report.yaml", text: spec)
        let result = Compiler.compile(source, directory: directory.appendingPathComponent("pipelines").path)
        #expect(TextFormat().render([LintedFile(source: source, diagnostics: result.diagnostics)]) == shown)
    }

    /// "Lint rules": one row per rule id, with its severity, and no row for a rule that does not exist.
    @Test func theLintRuleTableListsEveryRuleWithItsSeverity() throws {
        let readme = try String(contentsOf: Paths.root.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "\n## Lint rules\n"))
        let end = readme.range(of: "\n## ", range: start.upperBound..<readme.endIndex)?.lowerBound ?? readme.endIndex
        var rows: [(rule: String, severity: String)] = []
        for line in readme[start.upperBound..<end].split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            rows.append((cells[0].trimmingCharacters(in: ["`"]), cells[1]))
        }
        let table = Dictionary(rows, uniquingKeysWith: { first, _ in first })
        #expect(rows.count == table.count, "a rule is listed twice: \(rows.map(\.rule))")
        let rules = Dictionary(uniqueKeysWithValues: RuleID.allCases.map { ($0.rawValue, $0.defaultSeverity.rawValue) })
        #expect(table == rules)
    }
}
