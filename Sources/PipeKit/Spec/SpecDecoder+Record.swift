/// `record: { prompts: full | hash, outputs: full | hash }` at the top of a spec: how the run's
/// prompts (its input included) and outputs are kept in the run store, traces, exports and
/// cassettes (`RecordPolicy`).
public struct RecordSpec: Sendable {
    public var prompts: Located<RecordPolicy.Mode>?
    public var outputs: Located<RecordPolicy.Mode>?
    public var span: Span

    public var policy: RecordPolicy {
        RecordPolicy(prompts: prompts?.value ?? .full, outputs: outputs?.value ?? .full)
    }
}

extension SpecDecoder {
    mutating func record(_ node: YAMLNode) -> RecordSpec? {
        guard let pairs = mapping(node, what: "`record`") else { return nil }
        checkKeys(pairs, allowed: SpecKeys.record, in: "`record`")
        var record = RecordSpec(span: node.span)
        record.prompts = node["prompts"].flatMap { recordMode($0, key: "prompts") }
        record.outputs = node["outputs"].flatMap { recordMode($0, key: "outputs") }
        return record
    }

    private mutating func recordMode(_ node: YAMLNode, key: String) -> Located<RecordPolicy.Mode>? {
        guard let text = string(node, key: key) else { return nil }
        guard let mode = RecordPolicy.Mode(rawValue: text.value) else {
            report(.invalidValue, at: text.span, "`record.\(key)` must be `full` or `hash`, found `\(text.value)`",
                hint: "`hash` keeps only each text's SHA-256 and size; `full` (the default) keeps the text")
            return nil
        }
        return Located(mode, at: text.span)
    }
}
