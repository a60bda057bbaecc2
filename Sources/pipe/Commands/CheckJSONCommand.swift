import ArgumentParser
import Foundation
import PipeKit

/// `pipe check-json`: validate JSON documents against a JSON Schema.
struct CheckJSONCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-json",
        abstract: "Validate JSON documents against a JSON Schema.",
        discussion: """
        Each FILE (or standard input when no FILE is given, or for `-`) is parsed as JSON and \
        validated against SCHEMA, the same way `pipe run` checks a stage's output before \
        handing it on. The schema is draft 2020-12 unless its `$schema` names draft-07. \
        `$ref`s may point inside the schema, to other schema files in its directory tree \
        (relative paths), or to the official meta-schemas; nothing is fetched from the network.

        Every problem is printed on standard error, one per line, as \
        `FILE: LOCATION: MESSAGE`, where LOCATION is a JSON Pointer into the document \
        (`(root)` for the document itself):

          data.json: /facts/0: missing required property "source"
          data.json: /confidence: must be one of "low", "high", got "medium"

        With `--format json` the problems are printed on standard output instead, as a JSON \
        array of {file, instanceLocation, keywordLocation, message} objects (`[]` when all \
        documents are valid).

        `format` (date-time, email, uri, ...) is an annotation by default, as the \
        specification says; `--assert-format` checks it. A `pattern` match may take at most \
        10,000,000 steps: a document that needs more (a pattern that backtracks exponentially, \
        such as `(\\w+\\s?)*!`) is invalid, with a message naming the pattern.

        A FILE may be a pipe or `<(cmd)`. A document may be at most 64 MiB, a schema file \
        (SCHEMA and the files it `$ref`s) at most 4 MiB; a larger one is not read.

        Exit status: 0 when every document is valid, 1 when one is not, 2 when the schema \
        is unusable (such as a `$ref` cycle that never reaches a value) or a document cannot \
        be read, is over its limit, or is not JSON (the message names the file, and the line \
        and column), 74 when stdout or stderr cannot be written, 141 when stdout's reader has \
        gone.

        Examples:
          pipe check-json --schema schemas/research.schema.json out.json
          pipe run spec.yaml | pipe check-json --schema schemas/report.schema.json
          pipe check-json --schema s.json --format json a.json b.json
        """
    )

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: .long, help: ArgumentHelp("The JSON Schema file to validate against.", valueName: "SCHEMA"))
    var schema: String

    @Argument(help: ArgumentHelp("JSON files to validate; standard input when none is given, or for '-'.", valueName: "FILE"))
    var files: [String] = []

    @Option(name: .long, help: "How to print problems: 'text' (stderr, one per line) or 'json' (a JSON array on stdout).")
    var format: OutputFormat = .text

    @Flag(name: .long, help: "Check `format` keywords (date-time, email, uri, ...) instead of treating them as annotations.")
    var assertFormat = false

    @Option(name: .long, help: "Report at most this many problems per document.")
    var maxErrors = 100

    func run() throws {
        let compiled: JSONSchema
        do {
            compiled = try JSONDocumentCheck.loadSchema(path: schema, assertFormat: assertFormat)
        } catch {
            try printError(error.description)
            throw ExitCode(2)
        }
        var findings: [JSONDocumentCheck.Finding] = []
        var unusable = false
        for path in files.isEmpty ? ["-"] : files {
            let name = path == "-" ? "<stdin>" : path
            do {
                let bytes = try JSONDocumentCheck.read(path)
                findings += try JSONDocumentCheck.check(bytes, name: name, against: compiled, maxErrors: max(1, maxErrors))
            } catch {
                try printError(error.description)
                unusable = true
            }
        }
        switch format {
        case .text:
            for finding in findings { try printError(finding.line) }
        case .json:
            try Terminal.write(JSONValue.array(findings.map(\.json)).serialized(pretty: true) + "\n")
        }
        if unusable { throw ExitCode(2) }
        if !findings.isEmpty { throw ExitCode(1) }
    }

    private func printError(_ text: String) throws(WriteError) {
        try Terminal.writeError(text + "\n")
    }
}
