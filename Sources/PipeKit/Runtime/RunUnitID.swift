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

    public var description: String {
        stage + (iteration.map { "@\($0)" } ?? "") + (item.map { "[\($0)]" } ?? "")
    }

    /// The unit a `description` names, for text read back from a run store; nil when the
    /// text is not one.
    public init?(_ text: String) {
        var rest = Substring(text)
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
        self.init(stage: String(rest), iteration: iteration, item: item)
    }
}
