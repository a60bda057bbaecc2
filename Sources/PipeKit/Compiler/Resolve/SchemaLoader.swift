import Foundation

/// Loads the input's and the stages' schemas: inline, or files that must exist, be JSON and
/// stay inside the spec's directory tree. Each file is read once per spec. What goes wrong
/// is kept as `SchemaProblem`s, reported by the `schema-file` and `invalid-schema` rules.
/// The files come from the disk, or from a map of the texts a batch stored (`pipe worker`).
struct SchemaLoader {
    let files: SchemaFiles
    private(set) var problems: [SchemaProblem] = []
    /// The text of each file read, by the path written in the spec.
    private(set) var texts: [String: String] = [:]
    private var loaded: [String: JSONValue?] = [:]

    init(files: SchemaFiles) {
        self.files = files
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
            if let cached = loaded[path.value] { return cached.map { .loaded($0) } ?? .broken }
            let schema = loadFile(path, for: owner)
            loaded[path.value] = schema
            return schema.map { .loaded($0) } ?? .broken
        }
    }

    /// A schema file; it loads even when it is not valid JSON Schema (that is reported).
    private mutating func loadFile(_ path: Located<String>, for owner: SchemaOwner) -> JSONValue? {
        if path.value.contains("://") {
            problems.append(.isURL(path))
            return nil
        }
        let bytes: [UInt8]
        switch files {
        case .directory(let directory):
            guard let read = readFile(path, in: directory) else { return nil }
            bytes = read
        case .stored(let stored):
            guard let text = stored[path.value] else {
                let name = (path.value as NSString).lastPathComponent
                let names = stored.keys.map { ($0 as NSString).lastPathComponent }
                problems.append(.fileNotFound(path, closest: Suggestions.closest(to: name, in: names)))
                return nil
            }
            bytes = Array(text.utf8)
        }
        let schema: JSONValue
        do {
            schema = try JSONParser.parse(bytes)
        } catch {
            problems.append(.notJSON(path, error))
            return nil
        }
        texts[path.value] = String(decoding: bytes, as: UTF8.self)
        for problem in SchemaValidity.problems(in: schema) {
            problems.append(.invalidFile(path, owner, problem))
        }
        return schema
    }

    /// A schema file's bytes from the disk, if it exists inside the spec's directory tree.
    private mutating func readFile(_ path: Located<String>, in directory: String) -> [UInt8]? {
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
        do {
            return try BoundedRead.file(resolved, limit: ReadLimits.schemaFile)
        } catch {
            problems.append(.unreadable(path, error))
            return nil
        }
    }

    private func canonicalPath(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath()
        return url.path
    }
}

/// Where a spec's schema files are read from.
public enum SchemaFiles: Sendable {
    /// Files on the disk; relative paths start at this directory (the spec's), and a file
    /// must stay inside its tree.
    case directory(String)
    /// The texts a batch stored with its spec, by the path written in the spec.
    case stored([String: String])
}
