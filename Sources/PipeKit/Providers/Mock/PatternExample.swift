/// A string that matches a regular expression, for the mock provider: the shortest choice
/// at every step (the first alternative, the fewest repetitions, the first character of a
/// class). Handles the subset schemas use: literals, escapes (`\d \w \s`), classes
/// (`[a-z0-9_]`, `[^...]`), groups, alternation, anchors and quantifiers (`? * + {n,m}`).
/// Returns nil for a pattern it cannot read.
enum PatternExample {
    static func example(for pattern: String) -> String? {
        var parser = Parser(scalars: Array(pattern.unicodeScalars))
        guard let text = parser.alternation(), parser.index == parser.scalars.count else { return nil }
        return text
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0

        var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

        mutating func alternation() -> String? {
            guard let first = sequence() else { return nil }
            while current == "|" {
                index += 1
                guard sequence() != nil else { return nil }
            }
            return first
        }

        mutating func sequence() -> String? {
            var text = ""
            while let c = current, c != "|", c != ")" {
                guard let atom = atom() else { return nil }
                guard let count = quantifier() else { return nil }
                text += String(repeating: atom, count: count)
            }
            return text
        }

        mutating func atom() -> String? {
            guard let c = current else { return nil }
            index += 1
            switch c {
            case "^", "$": return ""
            case ".": return "a"
            case "(":
                if current == "?" {
                    // (?:...) and lookarounds: treat a non-capturing group as a group; skip lookarounds.
                    index += 1
                    guard let kind = current else { return nil }
                    index += 1
                    if kind != ":" {
                        if kind == "<", current == "=" || current == "!" { index += 1 }
                        _ = alternation()
                        guard current == ")" else { return nil }
                        index += 1
                        return ""
                    }
                }
                guard let inner = alternation(), current == ")" else { return nil }
                index += 1
                return inner
            case "[": return characterClass()
            case "\\": return escape(inClass: false)
            default: return String(c)
            }
        }

        mutating func escape(inClass: Bool) -> String? {
            guard let c = current else { return nil }
            index += 1
            switch c {
            case "d": return "0"
            case "D": return "a"
            case "w": return "a"
            case "W": return "-"
            case "s": return " "
            case "S": return "a"
            case "b", "B": return inClass ? "\u{8}" : ""
            case "n": return "\n"
            case "t": return "\t"
            case "u":
                guard index + 4 <= scalars.count,
                    let value = UInt32(String(String.UnicodeScalarView(scalars[index..<index + 4])), radix: 16),
                    let scalar = Unicode.Scalar(value)
                else { return nil }
                index += 4
                return String(scalar)
            default: return String(c)
            }
        }

        /// The first character a class accepts.
        mutating func characterClass() -> String? {
            var negated = false
            if current == "^" {
                negated = true
                index += 1
            }
            var members: [ClosedRange<UInt32>] = []
            var first = true
            while let c = current, c != "]" || first {
                first = false
                index += 1
                var low: UInt32
                if c == "\\" {
                    guard let escaped = escape(inClass: true)?.unicodeScalars.first else { return nil }
                    low = escaped.value
                } else {
                    low = c.value
                }
                if current == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                    index += 1
                    guard var high = current?.value else { return nil }
                    index += 1
                    if high == UInt32(UInt8(ascii: "\\")) {
                        guard let escaped = escape(inClass: true)?.unicodeScalars.first else { return nil }
                        high = escaped.value
                    }
                    if high < low { swap(&low, &high) }
                    members.append(low...high)
                } else {
                    members.append(low...low)
                }
            }
            guard current == "]" else { return nil }
            index += 1
            if !negated { return members.first.flatMap { Unicode.Scalar($0.lowerBound) }.map(String.init) }
            for candidate in ["a", "0", "A", "x", " ", "_"] {
                let value = candidate.unicodeScalars.first!.value
                if !members.contains(where: { $0.contains(value) }) { return candidate }
            }
            return nil
        }

        /// The smallest repetition count the quantifier allows (1 when there is none).
        mutating func quantifier() -> Int? {
            var count = 1
            switch current {
            case "?", "*":
                index += 1
                count = 0
            case "+":
                index += 1
            case "{":
                var j = index + 1
                var digits = ""
                while j < scalars.count, ("0"..."9").contains(scalars[j]) {
                    digits.unicodeScalars.append(scalars[j])
                    j += 1
                }
                guard let minimum = Int(digits) else { return 1 }
                while j < scalars.count, scalars[j] != "}" { j += 1 }
                guard j < scalars.count else { return nil }
                index = j + 1
                count = minimum
            default:
                return 1
            }
            if current == "?" || current == "+" { index += 1 }  // lazy or possessive
            return count
        }
    }
}
