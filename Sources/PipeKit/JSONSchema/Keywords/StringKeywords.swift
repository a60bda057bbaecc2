/// maxLength, minLength (counted in Unicode code points, as the spec says), pattern, format.
extension Evaluator {
    mutating func checkString(_ keyword: Keyword, _ instance: JSONValue, _ name: String) -> Bool {
        guard case .string(let s) = instance else { return true }
        switch keyword {
        case .maxLength(let limit):
            // Cheap bounds first: UTF-8 length ≥ code points ≥ UTF-8 length / 4.
            if s.utf8.count <= limit { return true }
            let length = s.unicodeScalars.count
            if length <= limit { return true }
            report(name, "\(characters(length)) long, at most \(limit) allowed")
        case .minLength(let limit):
            if s.utf8.count >= limit * 4 { return true }
            let length = s.unicodeScalars.count
            if length >= limit { return true }
            report(name, length == 0 ? "empty string, at least \(characters(limit)) required" : "\(characters(length)) long, at least \(limit) required")
        case .pattern(let regex):
            if matches(regex, s, keyword: name) { return true }
            if halted != nil { return false }
            report(name, "must match the pattern \(regex.source.jsonQuoted), got \(quoteForMessage(s))")
        case .format(let format, let check):
            if check(s) { return true }
            report(name, "must be a valid \(format), got \(quoteForMessage(s))")
        default:
            return true
        }
        return false
    }

    private func characters(_ n: Int) -> String { n == 1 ? "1 character" : "\(n) characters" }
}
