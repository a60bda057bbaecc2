extension String {
    /// Without the whitespace and line breaks around it. Pure Swift: Foundation's
    /// `trimmingCharacters(in:)` goes through `NSString`, which costs a call to the model
    /// about 100,000 instructions when it trims the API key.
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
