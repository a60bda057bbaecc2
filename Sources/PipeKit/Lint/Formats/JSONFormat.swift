/// Diagnostics as a JSON array, for scripts and editors:
/// `[{"file","line","column","endLine","endColumn","severity","rule","message","hint"}]`.
public struct JSONFormat: DiagnosticFormat {
    public init() {}

    public func render(_ files: [LintedFile]) -> String {
        let items = files.flatMap { file in
            file.diagnostics.map { diagnostic -> JSONValue in
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
                return .object(object)
            }
        }
        return JSONValue.array(items).serialized(pretty: true) + "\n"
    }
}
