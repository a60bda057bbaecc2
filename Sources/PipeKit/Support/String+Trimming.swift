extension StringProtocol {
    /// Without the whitespace and line breaks around it. Pure Swift: Foundation's
    /// `trimmingCharacters(in:)` goes through `NSString` (about 40,000 instructions to trim
    /// an API key, once per call to a model).
    public var trimmingSpaces: String {
        var text = self[...]
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }

    /// Without the whitespace and line breaks at its end.
    public var trimmingTrailingSpaces: String {
        var text = self[...]
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}
