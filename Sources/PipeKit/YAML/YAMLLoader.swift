import CYAML

/// Loads one YAML document into a `YAMLNode` tree with libyaml's event API.
///
/// Every problem is a `Diagnostic`, never a crash: syntax errors are placed where the
/// broken construct starts, duplicate keys at the second key, and aliases, nesting and
/// size are bounded so that a hostile file fails fast.
public struct YAMLLoader: Sendable {
    /// Limits that keep a hostile file from using unbounded time or memory.
    public struct Limits: Sendable {
        /// Nodes that aliases may add in all (a "billion laughs" file needs billions).
        public var aliasExpansion = 100_000
        /// Nesting of sequences and mappings.
        public var depth = 128
        /// The file itself.
        public var bytes = ReadLimits.spec

        public init() {}
    }

    public var limits = Limits()

    public init() {}

    /// The document's root node, or nil with the reasons in `diagnostics`.
    /// An empty file (or one with only comments) gives nil and no diagnostic.
    public func load(_ source: SourceFile, diagnostics: inout DiagnosticSink) -> YAMLNode? {
        if source.bytes.count > limits.bytes {
            diagnostics.report(
                .yamlLimit, at: .fileStart(source.path),
                "the file is \(source.bytes.count / 1024) KiB; a spec may be at most \(limits.bytes / 1024 / 1024) MiB",
                hint: "split the data out of the spec into schema or input files")
            return nil
        }
        return source.bytes.withUnsafeBufferPointer { buffer in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            var builder = TreeBuilder(file: source.path, limits: limits)
            return builder.run(&parser, diagnostics: &diagnostics)
        }
    }
}

/// Turns libyaml's events into nodes, with a stack of the collections being built.
private struct TreeBuilder {
    enum Frame {
        case sequence(items: [YAMLNode], start: SourcePosition, anchor: String?, tag: String?)
        case mapping(MappingFrame)
    }

    struct MappingFrame {
        var pairs: [YAMLPair] = []
        var merges: [YAMLNode] = []
        var pendingKey: YAMLNode?
        var seen: [String: Span] = [:]
        var start: SourcePosition
        var anchor: String?
        var tag: String?
    }

    let file: String
    let limits: YAMLLoader.Limits
    var stack: [Frame] = []
    var anchors: [String: YAMLNode] = [:]
    var expandedByAliases = 0
    var root: YAMLNode?
    var documents = 0
    var failed = false

    init(file: String, limits: YAMLLoader.Limits) {
        self.file = file
        self.limits = limits
    }

    mutating func run(_ parser: inout yaml_parser_t, diagnostics: inout DiagnosticSink) -> YAMLNode? {
        var event = yaml_event_t()
        while !failed {
            guard yaml_parser_parse(&parser, &event) == 1 else {
                reportSyntaxError(parser, diagnostics: &diagnostics)
                return nil
            }
            defer { yaml_event_delete(&event) }
            let start = position(event.start_mark)
            let end = position(event.end_mark)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return root
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    diagnostics.report(
                        .yamlSyntax, at: span(start, end),
                        "a spec is one YAML document, but this file has more after line \(start.line - 1)",
                        hint: "remove the `---` and what follows, or move it to its own file")
                    return nil
                }
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = string(scalar.value, length: scalar.length)
                let node = YAMLNode(
                    kind: .scalar(text, style(scalar.style)), span: span(start, end), tag: optionalString(scalar.tag))
                record(anchor: optionalString(scalar.anchor), node)
                add(node, diagnostics: &diagnostics)
            case YAML_ALIAS_EVENT:
                let name = optionalString(event.data.alias.anchor) ?? ""
                guard let target = anchors[name] else {
                    diagnostics.report(
                        .yamlSyntax, at: span(start, end), "alias `*\(name)` refers to no anchor defined before it",
                        hint: "define `&\(name)` on an earlier node")
                    failed = true
                    break
                }
                expandedByAliases += target.size
                if expandedByAliases > limits.aliasExpansion {
                    diagnostics.report(
                        .yamlLimit, at: span(start, end),
                        "aliases expand to more than \(limits.aliasExpansion) nodes (a \"billion laughs\" file?)",
                        hint: "use fewer nested aliases")
                    failed = true
                    break
                }
                add(target, diagnostics: &diagnostics)
            case YAML_SEQUENCE_START_EVENT:
                guard checkDepth(start, end, diagnostics: &diagnostics) else { break }
                let data = event.data.sequence_start
                stack.append(
                    .sequence(items: [], start: start, anchor: optionalString(data.anchor), tag: optionalString(data.tag)))
            case YAML_MAPPING_START_EVENT:
                guard checkDepth(start, end, diagnostics: &diagnostics) else { break }
                let data = event.data.mapping_start
                stack.append(
                    .mapping(MappingFrame(start: start, anchor: optionalString(data.anchor), tag: optionalString(data.tag))))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { break }
                switch frame {
                case .sequence(let items, let first, let anchor, let tag):
                    let node = YAMLNode(kind: .sequence(items), span: span(first, end), tag: tag)
                    record(anchor: anchor, node)
                    add(node, diagnostics: &diagnostics)
                case .mapping(let mapping):
                    let node = YAMLNode(kind: .mapping(merged(mapping)), span: span(mapping.start, end), tag: mapping.tag)
                    record(anchor: mapping.anchor, node)
                    add(node, diagnostics: &diagnostics)
                }
            default:
                break
            }
        }
        return nil
    }

    private mutating func checkDepth(_ start: SourcePosition, _ end: SourcePosition, diagnostics: inout DiagnosticSink)
        -> Bool
    {
        guard stack.count >= limits.depth else { return true }
        diagnostics.report(
            .yamlLimit, at: span(start, end), "nesting is deeper than \(limits.depth) levels",
            hint: "a spec never needs this depth; check for a generated or corrupted file")
        failed = true
        return false
    }

    private mutating func record(anchor: String?, _ node: YAMLNode) {
        if let anchor { anchors[anchor] = node }
    }

    /// Puts a finished node into the collection being built, or makes it the root.
    private mutating func add(_ node: YAMLNode, diagnostics: inout DiagnosticSink) {
        guard let top = stack.popLast() else {
            root = node
            return
        }
        switch consume top {  // consumed: the arrays and the dictionary below are then changed in place, not copied
        case .sequence(var items, let start, let anchor, let tag):
            items.append(node)
            stack.append(.sequence(items: items, start: start, anchor: anchor, tag: tag))
        case .mapping(var mapping):
            if let key = mapping.pendingKey {
                mapping.pendingKey = nil
                if case .scalar("<<", .plain) = key.kind {
                    mapping.merges.append(node)
                } else {
                    if let name = key.scalar {
                        if let first = mapping.seen[name] {
                            diagnostics.report(
                                .yamlDuplicateKey, at: key.span,
                                "duplicate key `\(name)`: it is already set at line \(first.start.line)",
                                hint: "remove one of the two, or merge them",
                                related: [RelatedLocation(first, "first set here")])
                        } else {
                            mapping.seen[name] = key.span
                        }
                    }
                    mapping.pairs.append(YAMLPair(key: key, value: node))
                }
            } else {
                mapping.pendingKey = node
            }
            stack.append(.mapping(mapping))
        }
    }

    /// Applies `<<: *anchor` merge keys: merged entries never override explicit ones.
    private func merged(_ mapping: MappingFrame) -> [YAMLPair] {
        guard !mapping.merges.isEmpty else { return mapping.pairs }
        var pairs = mapping.pairs
        var present = Set(mapping.seen.keys)
        let sources = mapping.merges.flatMap { $0.sequence ?? [$0] }
        for source in sources {
            for pair in source.mapping ?? [] {
                guard let name = pair.key.scalar, !present.contains(name) else { continue }
                present.insert(name)
                pairs.append(pair)
            }
        }
        return pairs
    }

    private func reportSyntaxError(_ parser: yaml_parser_t, diagnostics: inout DiagnosticSink) {
        let problem = optionalCString(parser.problem) ?? "the file is not valid YAML"
        let problemAt = position(parser.problem_mark)
        var at = problemAt
        var message = problem
        var related: [RelatedLocation] = []
        if let context = optionalCString(parser.context) {
            // libyaml's context mark is where the construct that broke begins.
            let contextAt = position(parser.context_mark)
            if contextAt < problemAt {
                at = contextAt
                message = "\(problem) \(context), which starts here"
                related = [RelatedLocation(span(problemAt, problemAt), "the problem is found here")]
                if contextAt.line != problemAt.line {
                    message += " (the problem is found at line \(problemAt.line), column \(problemAt.column))"
                }
            } else {
                message = "\(problem) \(context)"
            }
        }
        if parser.error == YAML_READER_ERROR {
            message = "the file is not UTF-8 text: \(problem) at byte \(parser.problem_offset)"
        }
        diagnostics.report(
            .yamlSyntax, at: span(at, at), message, hint: YAMLSyntaxHints.hint(for: problem), related: related)
    }

    private func position(_ mark: yaml_mark_t) -> SourcePosition {
        SourcePosition(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private func span(_ start: SourcePosition, _ end: SourcePosition) -> Span {
        Span(file: file, start: start, end: end)
    }

    private func style(_ style: yaml_scalar_style_t) -> YAMLNode.ScalarStyle {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int) -> String {
        guard let pointer else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    private func optionalString(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private func optionalCString(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }
}

/// Plain-words advice for libyaml's most common complaints.
enum YAMLSyntaxHints {
    static func hint(for problem: String) -> String? {
        switch problem {
        case "did not find expected key":
            "check the indentation: every key of a mapping must start in the same column"
        case "mapping values are not allowed in this context":
            "a value containing `: ` must be quoted, or moved to a block scalar (`key: |`)"
        case "found character that cannot start any token":
            "tabs cannot indent YAML, and `@` or a backquote cannot start a plain value; use spaces or quote the value"
        case "did not find expected '-' indicator":
            "every item of this list must start with `-` in the same column"
        case "found undefined tag handle":
            "remove the `!` tag or quote the value"
        case "found unexpected end of stream":
            "a quote or bracket is not closed"
        case "did not find expected ',' or ']'", "did not find expected ',' or '}'":
            "a flow collection (`[...]` or `{...}`) is not closed, or an item is missing a comma"
        case "could not find expected ':'":
            "a key is missing its `:`, or a quoted value spans lines where it should not"
        default:
            nil
        }
    }
}
