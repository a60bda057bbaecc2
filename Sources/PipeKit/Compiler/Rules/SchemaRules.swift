import Foundation

// Rules `schema-file` and `invalid-schema`: schema files exist, are JSON and stay inside the
// spec's directory tree; input and output schemas are valid JSON Schema.
extension Compilation {
    mutating func loadSchemas() {
        var cache: [String: JSONValue?] = [:]
        if let source = spec.input.schema {
            inputSchema = load(source, for: "the input", cache: &cache)
        }
        for stage in spec.stages {
            guard let source = stage.outputSchema else { continue }
            if let schema = load(source, for: "stage `\(stage.name.value)`", cache: &cache) {
                outputSchemas[stage.name.value] = schema
            } else {
                brokenSchemas.insert(stage.name.value)
            }
        }
    }

    private mutating func load(_ source: SchemaSource, for owner: String, cache: inout [String: JSONValue?]) -> JSONValue? {
        switch source {
        case .inline(let schema, let node):
            let problems = SchemaValidity.problems(in: schema)
            for problem in problems {
                let target = node.node(at: problem.pointer)
                diagnostics.report(
                    .invalidSchema, at: target.span, "invalid JSON Schema for \(owner): \(problem.message)",
                    hint: problem.hint)
            }
            return problems.isEmpty ? schema : nil
        case .file(let path):
            if let cached = cache[path.value] { return cached }
            let schema = loadFile(path, for: owner)
            cache[path.value] = schema
            return schema
        }
    }

    private mutating func loadFile(_ path: Located<String>, for owner: String) -> JSONValue? {
        if path.value.contains("://") {
            diagnostics.report(
                .schemaFile, at: path.span, "schema `\(path.value)` is a URL; pipe never fetches schemas",
                hint: "save the schema beside the spec and give its relative path")
            return nil
        }
        let root = canonicalPath(directory)
        let full = path.value.hasPrefix("/") ? path.value : directory + "/" + path.value
        guard FileManager.default.fileExists(atPath: full) else {
            let siblings = (try? FileManager.default.contentsOfDirectory(atPath: (full as NSString).deletingLastPathComponent)) ?? []
            let name = (path.value as NSString).lastPathComponent
            diagnostics.report(
                .schemaFile, at: path.span, "schema file `\(path.value)` not found",
                hint: Suggestions.closest(to: name, in: siblings).map { "did you mean `\($0)`?" }
                    ?? "paths are relative to the spec file's directory")
            return nil
        }
        let resolved = canonicalPath(full)
        guard resolved == root || resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            diagnostics.report(
                .schemaFile, at: path.span, "schema file `\(path.value)` is outside the spec's directory",
                hint: "copy the schema into the spec's directory tree")
            return nil
        }
        let bytes: [UInt8]
        do {
            bytes = try BoundedRead.file(resolved, limit: ReadLimits.schemaFile)
        } catch {
            diagnostics.report(
                .schemaFile, at: path.span, "schema file `\(path.value)` cannot be read: \(error)",
                hint: error == .isDirectory ? "name a JSON file" : nil)
            return nil
        }
        let schema: JSONValue
        do {
            schema = try JSONParser.parse(bytes)
        } catch {
            diagnostics.report(
                .schemaFile, at: path.span,
                "schema file `\(path.value)` is not valid JSON: \(path.value):\(error.line):\(error.column): \(error.message)")
            return nil
        }
        for problem in SchemaValidity.problems(in: schema) {
            let location = problem.pointer.tokens.isEmpty ? "" : " at `\(problem.pointer)`"
            diagnostics.report(
                .invalidSchema, at: path.span,
                "invalid JSON Schema in `\(path.value)`\(location) (for \(owner)): \(problem.message)", hint: problem.hint)
        }
        return schema
    }

    private func canonicalPath(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        return url.path
    }
}
