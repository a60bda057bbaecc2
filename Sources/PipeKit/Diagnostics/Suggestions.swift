/// "Did you mean ...?" from edit distance over the names in scope.
public enum Suggestions {
    /// The closest candidate to `name`, if it is close enough to be a likely typo.
    public static func closest(to name: String, in candidates: some Sequence<String>) -> String? {
        let limit = max(1, min(3, name.count / 3))
        let target = Array(name.lowercased().unicodeScalars)
        var best: (name: String, distance: Int)?
        for candidate in candidates where candidate != name {
            let other = Array(candidate.lowercased().unicodeScalars)
            // The distance is at least the difference in length.
            guard abs(other.count - target.count) < min(limit + 1, best?.distance ?? .max) else { continue }
            let distance = editDistance(target, other)
            if distance <= limit, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.name
    }

    /// A hint naming the closest candidate, or listing what exists when there are few.
    public static func hint(for name: String, in candidates: [String], kind: String) -> String? {
        if let match = closest(to: name, in: candidates) {
            return "did you mean `\(match)`?"
        }
        guard !candidates.isEmpty else { return nil }
        let shown = candidates.prefix(8).map { "`\($0)`" }.joined(separator: ", ")
        return "\(kind): \(shown)\(candidates.count > 8 ? ", ..." : "")"
    }

    /// Optimal string alignment distance (Levenshtein plus transpositions), in Unicode scalars.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        editDistance(Array(a.unicodeScalars), Array(b.unicodeScalars))
    }

    static func editDistance(_ x: [Unicode.Scalar], _ y: [Unicode.Scalar]) -> Int {
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous2 = [Int](repeating: 0, count: y.count + 1)
        var previous = Array(0...y.count)
        var current = [Int](repeating: 0, count: y.count + 1)
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[y.count]
    }
}
