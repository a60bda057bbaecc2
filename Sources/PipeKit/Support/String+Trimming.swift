extension String {
    /// Without the whitespace and line breaks around it. Pure Swift: Foundation's
    /// `trimmingCharacters(in:)` goes through `NSString` (about 40,000 instructions to trim
    /// an API key, once per call to a model).
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
