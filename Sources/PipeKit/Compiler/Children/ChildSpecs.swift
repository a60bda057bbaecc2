import Foundation

/// The child specs of a spec (`pipeline:` stages), compiled with it: each file read once
/// (inside the parent's directory tree, as schema files are), compiled by `Compiler` with the
/// chain of specs that led to it, so a cycle (`a.yaml` → `b.yaml` → `a.yaml`) and a nesting
/// deeper than `maxDepth` are problems, never a loop. What goes wrong is kept as facts for
/// the `pipeline-stage` rule; a child's own diagnostics are in its own file.
struct ChildSpecs {
    /// Specs inside specs, at most (the root is depth 0).
    static let maxDepth = 8
    /// Distinct child spec files one compilation reads, at most.
    static let maxFiles = 64

    /// Where the specs come from, and what the compilation of one tree shares.
    final class Session {
        /// The compiled children by identity (canonical path, or stored key), each compiled once.
        var compiled: [String: ChildSpec.Outcome] = [:]
        var files = 0
    }

    /// The spec being compiled: its identity and its display path, then its parents'.
    struct Link {
        let identity: String
        let path: String
    }

    /// Compiles the children of `spec`; their diagnostics go to `diagnostics`.
    static func compile(
        _ spec: PipelineSpec, files: SchemaFiles, chain: [Link], session: Session, diagnostics: inout DiagnosticSink
    ) -> [String: ChildSpec] {
        var children: [String: ChildSpec] = [:]
        for stage in spec.stages {
            guard let written = stage.pipeline, children[stage.name.value] == nil else { continue }
            let outcome = load(written.path, from: spec.source, files: files, chain: chain, session: session, diagnostics: &diagnostics)
            children[stage.name.value] = ChildSpec(path: written.path, outcome: outcome)
        }
        return children
    }

    private static func load(
        _ path: Located<String>, from parent: SourceFile, files: SchemaFiles, chain: [Link], session: Session,
        diagnostics: inout DiagnosticSink
    ) -> ChildSpec.Outcome {
        if path.value.contains("://") { return .problem(.isURL) }
        let written = normalized(path.value)
        let display = normalized(directory(of: parent.path).map { $0 + "/" + written } ?? written)
        let identity: String
        let bytes: [UInt8]
        let childFiles: SchemaFiles
        switch files {
        case .directory(let root):
            let full = path.value.hasPrefix("/") ? path.value : root + "/" + path.value
            guard FileManager.default.fileExists(atPath: full) else {
                let siblings = (try? FileManager.default.contentsOfDirectory(atPath: (full as NSString).deletingLastPathComponent)) ?? []
                let name = (path.value as NSString).lastPathComponent
                return .problem(.notFound(closest: Suggestions.closest(to: name, in: siblings.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") })))
            }
            let canonicalRoot = canonical(root)
            identity = canonical(full)
            guard identity.hasPrefix(canonicalRoot.hasSuffix("/") ? canonicalRoot : canonicalRoot + "/") else {
                return .problem(.outsideDirectory)
            }
            if let cycle = cycle(identity, display: display, chain: chain) { return .problem(cycle) }
            if let known = session.compiled[identity] { return known }
            guard session.files < maxFiles else { return .problem(.tooMany(limit: maxFiles)) }
            do {
                bytes = try BoundedRead.file(identity, limit: ReadLimits.spec)
            } catch {
                return .problem(.unreadable(error))
            }
            childFiles = .directory((identity as NSString).deletingLastPathComponent)
        case .stored(let stored):
            // A batch stores each child spec, and its schema files, by its path from the root
            // spec's directory.
            guard !written.hasPrefix("../"), written != "..", !written.hasPrefix("/") else { return .problem(.outsideDirectory) }
            guard let text = stored[written] else {
                return .problem(.notFound(closest: Suggestions.closest(to: written, in: Array(stored.keys))))
            }
            identity = written
            if let cycle = cycle(identity, display: display, chain: chain) { return .problem(cycle) }
            if let known = session.compiled[identity] { return known }
            bytes = Array(text.utf8)
            let prefix = directory(of: written).map { $0 + "/" } ?? ""
            childFiles = .stored(Dictionary(
                stored.compactMap { key, value in key.hasPrefix(prefix) ? (String(key.dropFirst(prefix.count)), value) : nil },
                uniquingKeysWith: { first, _ in first }))
        }
        guard chain.count < maxDepth else { return .problem(.tooDeep(limit: maxDepth)) }
        session.files += 1
        let source = SourceFile(path: display, bytes: bytes)
        let (result, resolved) = Compiler.compile(
            source, schemaFiles: childFiles, chain: chain + [Link(identity: identity, path: display)], session: session)
        for diagnostic in result.diagnostics { diagnostics.report(diagnostic) }
        let outcome: ChildSpec.Outcome
        if let pipeline = result.pipeline, let resolved {
            var stored = ["": String(decoding: bytes, as: UTF8.self)]
            for (key, text) in pipeline.schemaFiles { stored[key] = text }
            let prefix = directory(of: written).map { $0 + "/" } ?? ""
            let files = Dictionary(
                stored.map { key, text in (key.isEmpty ? written : normalized(prefix + key), text) }, uniquingKeysWith: { first, _ in first })
            outcome = .compiled(
                ResolvedChild(
                    path: written, source: source, pipeline: pipeline, outputSchema: ChildOutputSchema.make(resolved, pipeline: pipeline),
                    inputSchema: resolved.input, files: files, sources: [source] + result.sources))
        } else {
            outcome = .broken(sources: [source] + result.sources)
        }
        session.compiled[identity] = outcome
        return outcome
    }

    /// The chain as a problem when `identity` is already in it: the specs from its first
    /// appearance to it again.
    private static func cycle(_ identity: String, display: String, chain: [Link]) -> ChildProblem? {
        guard let first = chain.firstIndex(where: { $0.identity == identity }) else { return nil }
        return .cycle(chain.map(\.path) + [display], from: first)
    }

    private static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// The directory part of a path, nil for a bare name.
    static func directory(of path: String) -> String? {
        path.lastIndex(of: "/").map { String(path[..<$0]) }.flatMap { $0.isEmpty ? "/" : $0 }
    }

    /// `./a/../b/c.yaml` → `b/c.yaml`: a path written in a spec, for display and stored keys.
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            parts.append(part)
        }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }
}

/// A `pipeline:` stage's child as the compiler found it.
struct ChildSpec {
    let path: Located<String>
    let outcome: Outcome

    enum Outcome {
        case compiled(ResolvedChild)
        /// The child has errors, reported in its own file (`sources`: it and its own children).
        case broken(sources: [SourceFile])
        case problem(ChildProblem)
    }

    var child: ResolvedChild? {
        if case .compiled(let child) = outcome { return child }
        return nil
    }

    /// The files of the child and its own children, for diagnostics in them.
    var sources: [SourceFile] {
        switch outcome {
        case .compiled(let child): child.sources
        case .broken(let sources): sources
        case .problem: []
        }
    }
}

/// A child spec compiled without errors.
struct ResolvedChild {
    /// As written in the parent, normalized (`teams/research.yaml`).
    let path: String
    let source: SourceFile
    let pipeline: CompiledPipeline
    /// The JSON Schema of the child's output, as the parent's stages see the stage's value.
    let outputSchema: JSONValue
    let inputSchema: ResolvedSchema
    /// The child's spec text and schema files (its children's too), by their paths from the
    /// parent's directory: what a batch stores with the parent.
    let files: [String: String]
    let sources: [SourceFile]
}

/// Why a `pipeline:` stage's child could not be compiled.
enum ChildProblem {
    case isURL
    case notFound(closest: String?)
    case outsideDirectory
    case unreadable(BoundedRead.Problem)
    /// The specs of the cycle, from the spec that comes back (`chain[from]`) to it again.
    case cycle([String], from: Int)
    case tooDeep(limit: Int)
    case tooMany(limit: Int)
}
