/// Diagnostics as a JSON array, for scripts and editors:
/// `[{"file","line","column","endLine","endColumn","severity","rule","message","hint"}]`.
/// Past `LintedFile.maxShown` diagnostics in a file, one last element for the file,
/// `{"file", "severity": "note", "message", "omitted": N}`, counts the others.
public struct JSONFormat: DiagnosticFormat {
    public init() {}

    public func write<Failure: Error>(_ files: [LintedFile], to write: (String) throws(Failure) -> Void) throws(Failure) {
        var count = 0
        func element(_ value: JSONValue) throws(Failure) {
            try write((count == 0 ? "[\n  " : ",\n  ") + value.serialized(prettyAtDepth: 1))
            count += 1
        }
        for file in files {
            for diagnostic in file.shown {
                var object: JSONObject = [
                    "file": .string(diagnostic.span.file),
                    "line": .number(JSONNumber(diagnostic.span.start.line)),
                    "column": .number(JSONNumber(diagnostic.span.start.column)),
                    "endLine": .number(JSONNumber(diagnostic.span.end.line)),
                    "endColumn": .number(JSONNumber(diagnostic.span.end.column)),
                    "severity": .string(diagnostic.severity.rawValue),
                    "rule": .string(diagnostic.rule.rawValue),
                    "message": .string(diagnostic.message),
                ]
                if let hint = diagnostic.hint { object["hint"] = .string(hint) }
                try element(.object(object))
            }
            if file.omitted > 0 {
                try element([
                    "file": .string(file.source.path), "severity": "note", "message": .string(file.omittedMessage),
                    "omitted": .number(JSONNumber(file.omitted)),
                ])
            }
        }
        try write(count == 0 ? "[]\n" : "\n]\n")
    }
}
