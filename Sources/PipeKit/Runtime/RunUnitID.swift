/// One run of a stage: the stage, a loop's iteration (1-based) and a `for_each` item
/// (0-based), when it is one. Events, reports, records and requests carry it; its text
/// (`writer`, `writer@2`, `investigate[3]`, `investigate@2[3]`) is made only at the edges:
/// store rows, the trace, the progress display, messages.
public struct RunUnitID: Sendable, Hashable, CustomStringConvertible {
    public var stage: String
    public var iteration: Int?
    public var item: Int?

    public init(stage: String, iteration: Int? = nil, item: Int? = nil) {
        self.stage = stage
        self.iteration = iteration
        self.item = item
    }

    /// This unit's item `index` of a `for_each`.
    public func item(_ index: Int) -> RunUnitID { RunUnitID(stage: stage, iteration: iteration, item: index) }

    /// The stage's name under the stages whose child specs it runs in, without their items
    /// and iterations: `team/researcher` for `team[2]/researcher@3`.
    public var stagePath: String {
        stage.split(separator: "/", omittingEmptySubsequences: false).map { part in
            String(part.prefix { $0 != "[" && $0 != "@" })
        }.joined(separator: "/")
    }

    public var description: String {
        stage + (iteration.map { "@\($0)" } ?? "") + (item.map { "[\($0)]" } ?? "")
    }

    /// The unit a `description` names, for text read back from a run store; nil when the
    /// text is not one.
    public init?(_ text: String) {
        // A child spec's unit is named under its parent's (`team[2]/researcher@3`): the prefix
        // is kept as written, the last name read.
        let slash = text.lastIndex(of: "/")
        let prefix = slash.map { String(text[...$0]) } ?? ""
        var rest = slash.map { text[text.index(after: $0)...] } ?? Substring(text)
        var item: Int?
        if rest.hasSuffix("]"), let open = rest.lastIndex(of: "[") {
            guard let index = Int(rest[rest.index(after: open)..<rest.index(before: rest.endIndex)]), index >= 0 else { return nil }
            item = index
            rest = rest[..<open]
        }
        var iteration: Int?
        if let at = rest.lastIndex(of: "@") {
            guard let number = Int(rest[rest.index(after: at)...]), number >= 1 else { return nil }
            iteration = number
            rest = rest[..<at]
        }
        guard !rest.isEmpty, !rest.contains("@"), !rest.contains("["), !rest.contains("]") else { return nil }
        self.init(stage: prefix + String(rest), iteration: iteration, item: item)
    }
}
