/// How events, records and providers name one run of a stage: `writer` for the stage,
/// `writer@2` for a loop's second iteration, `investigate[3]` for an item of a `for_each`
/// (`investigate@2[3]` when both). Built and read only here.
public enum StageLabel {
    /// The label of a loop's iteration `number` of a stage (or of a stage's label).
    public static func iteration(_ label: String, _ number: Int) -> String { "\(label)@\(number)" }

    /// The label of item `index` of a `for_each` run labelled `label`.
    public static func item(_ label: String, _ index: Int) -> String { "\(label)[\(index)]" }

    /// The stage a label names.
    public static func stage(of label: String) -> String {
        String(label.prefix { $0 != "@" && $0 != "[" })
    }

    /// The loop iteration in a label (`2` for `writer@2`), if any.
    public static func iteration(of label: String) -> String? {
        guard let at = label.firstIndex(of: "@") else { return nil }
        return String(label[label.index(after: at)...].prefix { $0 != "[" })
    }

    /// The item index in a label (`3` for `investigate[3]`), if any.
    public static func itemIndex(of label: String) -> Int? {
        guard label.hasSuffix("]"), let open = label.lastIndex(of: "[") else { return nil }
        return Int(label[label.index(after: open)..<label.index(before: label.endIndex)])
    }
}
