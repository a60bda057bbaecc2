/// SARIF 2.1.0, the format code-scanning services (GitHub code scanning among them) read.
/// Past `LintedFile.maxShown` diagnostics in a file, a tool execution notification of the
/// run's invocation counts the others.
public struct SARIFFormat: DiagnosticFormat {
    public init() {}

    public func write<Failure: Error>(_ files: [LintedFile], to write: (String) throws(Failure) -> Void) throws(Failure) {
        let rules = RuleID.allCases
        let ruleIndex = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($1, $0) })
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
        // The log is written a result at a time: {"$schema", "version", "runs": [{"tool",
        // "invocations"?, "results": [...]}]}.
        var head = "{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n"
        head += "  \"runs\": [\n    {\n      \"tool\": " + JSONValue.object(["driver": .object(driver)]).serialized(prettyAtDepth: 3)
        // Diagnostics past the most printed for a file are counted in a notification.
        let notifications = files.filter { $0.omitted > 0 }.map { file -> JSONValue in
            [
                "level": "note", "message": ["text": .string(file.omittedMessage)],
                "locations": [["physicalLocation": ["artifactLocation": ["uri": .string(uri(file.source.path))]]]],
            ]
        }
        if !notifications.isEmpty {
            let invocation: JSONValue = ["executionSuccessful": true, "toolExecutionNotifications": .array(notifications)]
            head += ",\n      \"invocations\": " + JSONValue.array([invocation]).serialized(prettyAtDepth: 3)
        }
        try write(head + ",\n      \"results\": [")
        var count = 0
        for diagnostic in files.flatMap(\.shown) {
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
            try write((count == 0 ? "\n        " : ",\n        ") + JSONValue.object(result).serialized(prettyAtDepth: 4))
            count += 1
        }
        try write((count == 0 ? "]" : "\n      ]") + "\n    }\n  ]\n}\n")
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
