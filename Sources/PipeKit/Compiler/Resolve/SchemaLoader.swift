import Foundation

/// Loads the input's and the stages' schemas: inline, or files that must exist, be JSON and
/// stay inside the spec's directory tree. Each file is read once per spec. What goes wrong
/// is kept as `SchemaProblem`s, reported by the `schema-file` and `invalid-schema` rules.
struct SchemaLoader {
    let directory: String
    private(set) var problems: [SchemaProblem] = []
    private var files: [String: JSONValue?] = [:]

    init(directory: String) {
        self.directory = directory
    }

    /// The schema of `source`; `.text` when there is none.
    mutating func load(_ source: SchemaSource?, for owner: SchemaOwner) -> ResolvedSchema {
        guard let source else { return .text }
        switch source {
        case .inline(let schema, let node):
            let found = SchemaValidity.problems(in: schema)
            for problem in found {
                problems.append(.invalidInline(owner, at: node.node(at: problem.pointer).span, problem))
            }
            return found.isEmpty ? .loaded(schema) : .broken
        case .file(let path):
            if let cached = files[path.value] { return cached.map { .loaded($0) } ?? .broken }
            let schema = loadFile(path, for: owner)
            files[path.value] = schema
            return schema.map { .loaded($0) } ?? .broken
        }
    }

    /// A schema file; it loads even when it is not valid JSON Schema (that is reported).
    private mutating func loadFile(_ path: Located<String>, for owner: SchemaOwner) -> JSONValue? {
        if path.value.contains("://") {
            problems.append(.isURL(path))
            return nil
        }
        let root = canonicalPath(directory)
        let full = path.value.hasPrefix("/") ? path.value : directory + "/" + path.value
        guard FileManager.default.fileExists(atPath: full) else {
            let siblings = (try? FileManager.default.contentsOfDirectory(atPath: (full as NSString).deletingLastPathComponent)) ?? []
            let name = (path.value as NSString).lastPathComponent
            problems.append(.fileNotFound(path, closest: Suggestions.closest(to: name, in: siblings)))
            return nil
        }
        let resolved = canonicalPath(full)
        guard resolved == root || resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            problems.append(.outsideDirectory(path))
            return nil
        }
        let bytes: [UInt8]
        do {
            bytes = try BoundedRead.file(resolved, limit: ReadLimits.schemaFile)
        } catch {
            problems.append(.unreadable(path, error))
            return nil
        }
        let schema: JSONValue
        do {
            schema = try JSONParser.parse(bytes)
        } catch {
            problems.append(.notJSON(path, error))
            return nil
        }
        for problem in SchemaValidity.problems(in: schema) {
            problems.append(.invalidFile(path, owner, problem))
        }
        return schema
    }

    private func canonicalPath(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        return url.path
    }
}
