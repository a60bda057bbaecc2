import ArgumentParser
import Foundation
import PipeKit

struct LintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Check pipeline specs without calling any model.",
        discussion: """
            Compiles each spec and reports every problem in one pass: YAML syntax, unknown \
            keys (with did-you-mean), wrong types, undeclared models, template references that \
            do not exist in the JSON Schema of what they point into, cycles between stages, \
            invalid or missing schema files, and token budgets that cannot hold.

            Diagnostics are printed on stdout as `path:line:col: severity: message [rule]`, \
            with the source line (at most 120 columns around the problem, `…` where cut) and \
            a caret under the problem. A file prints at most 200 diagnostics, then a note \
            counting the others (in every format). Control characters in messages and source \
            lines are printed escaped (`\\u001b`).

            With --tools, each spec's tool servers are started too (see `pipe help tools`): \
            a `server.tool` a stage names that its server does not list is an `unknown-tool` \
            error, a server that does not start a `tool-server` error. Exit 2 when a `${VAR}` \
            of a server's `env` is not set or this pipe cannot start tool servers.

            Test files (`NAME.test.yaml`, see `pipe help test`) are checked too, when named or \
            when beside a spec named: their shape, stages that do not exist, mock and given \
            values against each stage's output schema, matchers typed against the schema \
            (`contains` on a number), models a stage does not use, missing given files and \
            cassettes, all at their line and column in the test file.

            A spec may be at most 4 MiB, each schema file it names at most 4 MiB; a larger \
            file is not read. A spec may come from a pipe or `<(cmd)`.

            Exit status: 0 when clean (warnings allowed unless --strict), 1 when problems \
            were found (a schema file over its limit is one), 2 for a usage error or an \
            unreadable file (a spec over its limit is one), 74 when stdout or stderr cannot be \
            written, 141 when stdout's reader has gone (`pipe lint ... | head -1`).

            Examples:
              pipe lint pipelines/*.yaml
              pipe lint --strict --format github spec.yaml     # annotations in GitHub Actions
              cat spec.yaml | pipe lint -
              pipe lint --tools pipelines/code-review.yaml     # start the tool servers and check the tools named
            """
    )

    @Option(name: .long, help: "Output format: text, json, github (workflow annotations) or sarif (SARIF 2.1.0).")
    var format: DiagnosticFormatName = .text

    @Flag(name: .long, help: "Fail on warnings too.")
    var strict = false

    @Flag(name: .long, help: "Start the tool servers and check the tools the stages name.")
    var tools = false

    @Argument(help: "Spec files (and test files, NAME.test.yaml) to check; `-` reads a spec from standard input.")
    var specs: [String]

    func validate() throws {
        if specs.isEmpty { throw ValidationError("name at least one spec file (or `-` for standard input)") }
        if specs.filter({ $0 == "-" }).count > 1 { throw ValidationError("`-` (standard input) can be given once") }
    }

    func run() async throws {
        var files: [LintedFile] = []
        var unreadable = false
        for path in specs {
            if TestFile.isTestFile(path) {
                do {
                    files += try TestSuiteLoader.load(path).linted
                } catch {
                    try Terminal.writeError("pipe: \(error)\n")
                    unreadable = true
                }
                continue
            }
            let source: SourceFile, directory: String
            do {
                (source, directory) = try SpecFile.read(path)
            } catch {
                try Terminal.writeError("\(error)\n")
                unreadable = true
                continue
            }
            var result = Compiler.compile(source, directory: directory)
            if tools, let pipeline = result.pipeline, !pipeline.toolServers.isEmpty {
                let listings = try await ToolServersSetup.listingsOrExit(pipeline)
                result.diagnostics += ToolCatalog.diagnostics(pipeline, listings: listings)
            }
            // A child spec's (`pipeline:`) diagnostics are listed under its own file.
            files += result.lintedFiles(source)
            // The spec's test file, when one is beside it (and not named too), is checked with
            // it, and listed when it has problems.
            let testFile = TestFile.path(forSpec: path)
            if path != "-", result.pipeline != nil, !specs.contains(testFile), FileManager.default.fileExists(atPath: testFile),
                let loaded = try? TestSuiteLoader.load(testFile), !loaded.diagnostics.isEmpty
            {
                files.append(LintedFile(source: loaded.source, diagnostics: loaded.diagnostics))
            }
        }
        let all = files.flatMap(\.diagnostics)
        if format != .text || !all.isEmpty {
            try format.format(color: Terminal.isColorEnabled(fileDescriptor: 1)).write(files, to: Terminal.write)
        }
        let errors = all.filter { $0.severity == .error }.count
        let warnings = all.filter { $0.severity == .warning }.count
        if format == .text, errors + warnings > 0 {
            try Terminal.writeError(
                "\(count(errors, "error")), \(count(warnings, "warning")) in \(count(files.count, "file"))\n")
        }
        if unreadable { throw ExitCode(2) }
        if errors > 0 || (strict && warnings > 0) { throw ExitCode(1) }
    }

    private func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}

extension DiagnosticFormatName: ExpressibleByArgument {}
