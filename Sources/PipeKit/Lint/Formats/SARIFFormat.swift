/// SARIF 2.1.0, the format code-scanning services (GitHub code scanning among them) read.
public struct SARIFFormat: DiagnosticFormat {
    public init() {}

    public func render(_ files: [LintedFile]) -> String {
        let rules = RuleID.allCases
        let ruleIndex = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($1, $0) })
        let results = files.flatMap(\.diagnostics).map { diagnostic -> JSONValue in
            var message = diagnostic.message
            if let hint = diagnostic.hint { message += " Hint: \(hint)" }
            var result: JSONObject = [
                "ruleId": .string(diagnostic.rule.rawValue),
                "ruleIndex": .number(JSONNumber(ruleIndex[diagnostic.rule] ?? 0)),
                "level": .string(diagnostic.severity.rawValue),
                "message": ["text": .string(message)],
                "locations": [location(diagnostic.span)],
            ]
            if !diagnostic.related.isEmpty {
                result["relatedLocations"] = .array(
                    diagnostic.related.enumerated().map { index, related in
                        var location = location(related.span).objectValue ?? [:]
                        location["id"] = .number(JSONNumber(index))
                        location["message"] = ["text": .string(related.message)]
                        return .object(location)
                    })
            }
            return .object(result)
        }
        let driver: JSONObject = [
            "name": "pipe",
            "semanticVersion": .string(PipeVersion.current),
            "informationUri": "https://github.com/pipe-dev/pipe",
            "rules": .array(
                rules.map { rule in
                    [
                        "id": .string(rule.rawValue),
                        "name": .string(rule.rawValue),
                        "shortDescription": ["text": .string(rule.summary)],
                        "defaultConfiguration": ["level": .string(rule.defaultSeverity.rawValue)],
                    ]
                }),
        ]
        let log: JSONValue = [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [["tool": ["driver": .object(driver)], "results": .array(results)]],
        ]
        return log.serialized(pretty: true) + "\n"
    }

    private func location(_ span: Span) -> JSONValue {
        [
            "physicalLocation": [
                "artifactLocation": ["uri": .string(uri(span.file))],
                "region": [
                    "startLine": .number(JSONNumber(span.start.line)),
                    "startColumn": .number(JSONNumber(span.start.column)),
                    "endLine": .number(JSONNumber(span.end.line)),
                    "endColumn": .number(JSONNumber(max(span.end.column, span.start.column + (span.end.line == span.start.line ? 1 : 0)))),
                ],
            ]
        ]
    }

    /// A relative URI reference for the file (SARIF wants URIs, with spaces escaped).
    private func uri(_ path: String) -> String {
        var result = path.hasPrefix("./") ? String(path.dropFirst(2)) : path
        result = result.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: " ", with: "%20")
        return result
    }
}
