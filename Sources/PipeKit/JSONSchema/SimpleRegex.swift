/// A small matcher for the regular expressions schemas use most — a sequence of literals,
/// character classes and quantifiers, optionally anchored, such as `^rec-[0-9]{5}$` or
/// `^[a-z][a-z0-9_]*$` — so they skip NSRegularExpression's bridging and setup. Anything
/// outside that subset (groups, alternation, escapes other than `\d \w \s`, lookaround, ...)
/// makes `init` fail and the caller uses ICU. Semantics follow ECMA-262: `\d`, `\w` are
/// ASCII, `.` excludes line terminators, matching is per Unicode scalar.
struct SimpleRegex: Sendable {
    private enum Atom: Sendable {
        case scalar(Unicode.Scalar)
        case set([ClosedRange<UInt32>], negated: Bool)
        case any  // `.`
    }

    private struct Piece: Sendable {
        var atom: Atom
        var min: Int
        var max: Int  // Int.max for unbounded
    }

    private let pieces: [Piece]
    private let anchoredStart: Bool
    private let anchoredEnd: Bool

    private static let digit: [ClosedRange<UInt32>] = [48...57]
    private static let word: [ClosedRange<UInt32>] = [48...57, 65...90, 95...95, 97...122]
    private static let space: [ClosedRange<UInt32>] = [
        9...13, 32...32, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029,
        0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF,
    ]

    init?(_ pattern: String) {
        var scalars = Array(pattern.unicodeScalars)[...]
        anchoredStart = scalars.first == "^"
        if anchoredStart { scalars = scalars.dropFirst() }
        anchoredEnd = scalars.last == "$" && !(scalars.count >= 2 && scalars[scalars.endIndex - 2] == "\\")
        if anchoredEnd { scalars = scalars.dropLast() }
        var pieces: [Piece] = []
        while let c = scalars.first {
            scalars = scalars.dropFirst()
            var atom: Atom
            switch c {
            case "\\":
                guard let e = scalars.popFirst(), let escaped = Self.escape(e) else { return nil }
                atom = escaped
            case "[":
                guard let set = Self.parseSet(&scalars) else { return nil }
                atom = set
            case ".":
                atom = .any
            case "(", ")", "|", "^", "$", "*", "+", "?", "{", "}", "]":
                return nil
            default:
                atom = .scalar(c)
            }
            var min = 1, max = 1
            if let q = scalars.first {
                switch q {
                case "*": min = 0; max = Int.max; scalars = scalars.dropFirst()
                case "+": min = 1; max = Int.max; scalars = scalars.dropFirst()
                case "?": min = 0; max = 1; scalars = scalars.dropFirst()
                case "{":
                    guard let (lo, hi) = Self.parseBraces(&scalars) else { return nil }
                    min = lo; max = hi
                default: break
                }
                if scalars.first == "?" || scalars.first == "*" || scalars.first == "+" || scalars.first == "{" { return nil }  // lazy/possessive
            }
            pieces.append(Piece(atom: atom, min: min, max: max))
        }
        self.pieces = pieces
    }

    private static func escape(_ e: Unicode.Scalar) -> Atom? {
        switch e {
        case "d": return .set(digit, negated: false)
        case "D": return .set(digit, negated: true)
        case "w": return .set(word, negated: false)
        case "W": return .set(word, negated: true)
        case "s": return .set(space, negated: false)
        case "S": return .set(space, negated: true)
        case "n": return .scalar("\n")
        case "t": return .scalar("\t")
        case "r": return .scalar("\r")
        default:
            // Escaped syntax characters stand for themselves; anything else goes to ICU.
            return "^$\\.*+?()[]{}|/-".unicodeScalars.contains(e) ? .scalar(e) : nil
        }
    }

    private static func parseSet(_ scalars: inout ArraySlice<Unicode.Scalar>) -> Atom? {
        var negated = false
        if scalars.first == "^" { negated = true; scalars = scalars.dropFirst() }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while let c = scalars.popFirst() {
            if c == "]" && !first { return .set(ranges, negated: negated) }
            first = false
            var low: UInt32
            if c == "\\" {
                guard let e = scalars.popFirst() else { return nil }
                switch e {
                case "d": ranges += digit; continue
                case "w": ranges += word; continue
                case "s": ranges += space; continue
                case "n": low = 10
                case "t": low = 9
                case "r": low = 13
                default:
                    guard "^$\\.*+?()[]{}|/-".unicodeScalars.contains(e) else { return nil }
                    low = e.value
                }
            } else if c == "[" || c == "]" {
                return nil
            } else {
                low = c.value
            }
            if scalars.first == "-", scalars.count >= 2, scalars[scalars.startIndex + 1] != "]" {
                let high = scalars[scalars.startIndex + 1]
                guard high != "\\", high != "[", high.value >= low else { return nil }
                scalars = scalars.dropFirst(2)
                ranges.append(low...high.value)
            } else {
                ranges.append(low...low)
            }
        }
        return nil
    }

    private static func parseBraces(_ scalars: inout ArraySlice<Unicode.Scalar>) -> (Int, Int)? {
        guard let close = scalars.firstIndex(of: "}") else { return nil }
        let body = String(String.UnicodeScalarView(scalars[(scalars.startIndex + 1)..<close]))
        scalars = scalars[(close + 1)...]
        let parts = body.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ $0.allSatisfy { ("0"..."9").contains($0) } }),
            let low = Int(parts[0]), low <= 10_000
        else { return nil }
        if parts.count == 1 { return (low, low) }
        if parts[1].isEmpty { return (low, Int.max) }
        guard let high = Int(parts[1]), high >= low, high <= 10_000 else { return nil }
        return (low, high)
    }

    @inline(__always)
    private func matches(_ atom: Atom, _ scalar: UInt32) -> Bool {
        switch atom {
        case .scalar(let s): return s.value == scalar
        case .any: return !(scalar == 0x0A || scalar == 0x0D || scalar == 0x2028 || scalar == 0x2029)
        case .set(let ranges, let negated):
            var found = false
            for range in ranges where range.contains(scalar) { found = true; break }
            return found != negated
        }
    }

    /// Whether the pattern matches somewhere in `string`; nil when that takes more than `stepLimit`
    /// steps (a step is one character scanned by a piece, or one backtrack).
    func matches(_ string: String, stepLimit: Int) -> Bool? {
        var string = string
        var steps = stepLimit
        // ASCII text (the common case) is matched on its bytes, without decoding.
        if string.withUTF8({ $0.allSatisfy { $0 < 0x80 } }) {
            return string.withUTF8 { search($0.lazy.map { UInt32($0) }, &steps) }
        }
        return search(string.unicodeScalars.map(\.value), &steps)
    }

    private func search<C: RandomAccessCollection>(_ scalars: C, _ steps: inout Int) -> Bool? where C.Element == UInt32, C.Index == Int {
        if anchoredStart { return match(scalars, 0, 0, &steps) }
        for start in 0...scalars.count {
            guard let found = match(scalars, 0, start, &steps) else { return nil }
            if found { return true }
        }
        return false
    }

    /// Backtracking match of `pieces[piece...]` at `position`; nil when `steps` run out.
    private func match<C: RandomAccessCollection>(_ scalars: C, _ piece: Int, _ position: Int, _ steps: inout Int) -> Bool? where C.Element == UInt32, C.Index == Int {
        if piece == pieces.count { return !anchoredEnd || position == scalars.count }
        let p = pieces[piece]
        var count = 0
        var i = position
        while count < p.max, i < scalars.count, matches(p.atom, scalars[i]) {
            count += 1
            i += 1
        }
        steps -= count
        if steps < 0 { return nil }
        if count < p.min { return false }
        if piece == pieces.count - 1 { return !anchoredEnd || i == scalars.count }
        while true {
            guard let found = match(scalars, piece + 1, position + count, &steps) else { return nil }
            if found { return true }
            if count == p.min { return false }
            count -= 1
            steps -= 1
            if steps < 0 { return nil }
        }
    }
}
