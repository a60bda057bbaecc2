// Rules `schema-file` and `invalid-schema`: schema files exist, are JSON and stay inside the
// spec's directory tree; input and output schemas are valid JSON Schema. The schemas are
// loaded by `SchemaLoader`; this says what went wrong.
struct SchemaRules: ProblemRule {
    let ids: [RuleID] = [.schemaFile, .invalidSchema]

    static func problems(in resolved: ResolvedPipeline) -> [SchemaProblem] { resolved.schemaProblems }

    func diagnostic(for problem: SchemaProblem, in resolved: ResolvedPipeline) -> Diagnostic {
        switch problem {
        case .isURL(let path):
            Diagnostic(.schemaFile, at: path.span, "schema `\(path.value)` is a URL; pipe never fetches schemas",
                hint: "save the schema beside the spec and give its relative path")
        case .fileNotFound(let path, let closest):
            Diagnostic(.schemaFile, at: path.span, "schema file `\(path.value)` not found",
                hint: closest.map { "did you mean `\($0)`?" } ?? "paths are relative to the spec file's directory")
        case .outsideDirectory(let path):
            Diagnostic(.schemaFile, at: path.span, "schema file `\(path.value)` is outside the spec's directory",
                hint: "copy the schema into the spec's directory tree")
        case .unreadable(let path, let error):
            Diagnostic(.schemaFile, at: path.span, "schema file `\(path.value)` cannot be read: \(error)",
                hint: error == .isDirectory ? "name a JSON file" : nil)
        case .notJSON(let path, let error):
            Diagnostic(.schemaFile, at: path.span,
                "schema file `\(path.value)` is not valid JSON: \(path.value):\(error.line):\(error.column): \(error.message)")
        case .invalidInline(let owner, let span, let problem):
            Diagnostic(.invalidSchema, at: span, "invalid JSON Schema for \(Self.describe(owner)): \(problem.message)",
                hint: problem.hint)
        case .invalidFile(let path, let owner, let problem):
            Diagnostic(.invalidSchema, at: path.span,
                "invalid JSON Schema in `\(path.value)`\(problem.pointer.tokens.isEmpty ? "" : " at `\(problem.pointer)`") (for \(Self.describe(owner))): \(problem.message)",
                hint: problem.hint)
        }
    }

    private static func describe(_ owner: SchemaOwner) -> String {
        switch owner {
        case .input: "the input"
        case .stage(let name): "stage `\(name)`"
        }
    }
}
