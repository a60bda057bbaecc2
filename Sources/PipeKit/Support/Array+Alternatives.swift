extension Array where Element == String {
    /// The elements as alternatives in a sentence: "a", "a or b", "a, b or c".
    var alternatives: String {
        guard let last, count > 1 else { return first ?? "" }
        return dropLast().joined(separator: ", ") + " or " + last
    }
}
