import Foundation

/// A regular expression written in ECMA-262 syntax (as JSON Schema requires), translated to
/// ICU syntax for `NSRegularExpression`.
///
/// The translation keeps ECMA meanings where ICU differs: `\d`, `\w` and their negations are
/// ASCII-only; `\s` is ECMA's whitespace set; `$` matches only at the very end of the input;
/// `\u{…}` and surrogate-pair `\uXXXX\uXXXX` escapes name code points. Patterns are searched,
/// not anchored, as the spec says.
final class ECMARegex: @unchecked Sendable {
    // @unchecked: NSRegularExpression is immutable and documented as safe to share across threads.
    let source: String
    private let matcher: Matcher

    private enum Matcher {
        /// Patterns simple enough for the built-in matcher never start ICU, whose regex
        /// setup costs milliseconds and megabytes (the meta-schema's own patterns are such).
        case simple(SimpleRegex)
        case icu(NSRegularExpression)
    }

    init(_ source: String) throws(ECMARegexError) {
        self.source = source
        if let simple = SimpleRegex(source) {
            matcher = .simple(simple)
            return
        }
        let translated = try ECMARegex.translate(source)
        do {
            matcher = .icu(try NSRegularExpression(pattern: translated, options: []))
        } catch {
            throw ECMARegexError(reason: "not a valid regular expression")
        }
    }

    /// True when the pattern matches somewhere in `string`.
    func matches(_ string: String) -> Bool {
        switch matcher {
        case .simple(let simple):
            return simple.matches(string)
        case .icu(let regex):
            return regex.firstMatch(in: string, options: [], range: NSRange(location: 0, length: (string as NSString).length)) != nil
        }
    }

    static let ecmaWhitespace = "\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}"

    /// ECMA-262 pattern → ICU pattern.
    static func translate(_ pattern: String) throws(ECMARegexError) -> String {
        let scalars = Array(pattern.unicodeScalars)
        var out = ""
        var i = 0
        var inClass = false
        func hex(_ s: ArraySlice<Unicode.Scalar>) -> UInt32? {
            guard !s.isEmpty else { return nil }
            return UInt32(String(String.UnicodeScalarView(s)), radix: 16)
        }
        while i < scalars.count {
            let c = scalars[i]
            if c == "\\" {
                guard i + 1 < scalars.count else { throw ECMARegexError(reason: "pattern ends with a lone backslash") }
                let e = scalars[i + 1]
                i += 2
                switch e {
                case "d": out += inClass ? "0-9" : "[0-9]"
                case "D": out += "[^0-9]"
                case "w": out += inClass ? "A-Za-z0-9_" : "[A-Za-z0-9_]"
                case "W": out += "[^A-Za-z0-9_]"
                case "s": out += inClass ? ecmaWhitespace : "[\(ecmaWhitespace)]"
                case "S": out += "[^\(ecmaWhitespace)]"
                case "u":
                    if i < scalars.count, scalars[i] == "{" {
                        guard let close = scalars[i...].firstIndex(of: "}"), let value = hex(scalars[(i + 1)..<close]) else {
                            throw ECMARegexError(reason: "invalid \\u{...} escape")
                        }
                        out += "\\x{\(String(value, radix: 16))}"
                        i = close + 1
                    } else if i + 4 <= scalars.count, var value = hex(scalars[i..<(i + 4)]) {
                        i += 4
                        if value >= 0xD800 && value < 0xDC00, i + 6 <= scalars.count, scalars[i] == "\\", scalars[i + 1] == "u",
                           let low = hex(scalars[(i + 2)..<(i + 6)]), low >= 0xDC00 && low < 0xE000 {
                            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                            i += 6
                        }
                        out += "\\x{\(String(value, radix: 16))}"
                    } else {
                        out += "u"
                    }
                default:
                    out.unicodeScalars.append("\\")
                    out.unicodeScalars.append(e)
                }
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
                if c == "[" {
                    out += "\\["  // a literal '[' inside an ECMA class; ICU would start a nested set
                } else {
                    out.unicodeScalars.append(c)
                }
            } else if c == "[" {
                // `[^]` matches any character and `[]` nothing in ECMA; ICU reads both differently.
                if i + 2 < scalars.count, scalars[i + 1] == "^", scalars[i + 2] == "]" {
                    out += "[\\x{0}-\\x{10FFFF}]"
                    i += 3
                    continue
                }
                if i + 1 < scalars.count, scalars[i + 1] == "]" {
                    out += "(?!)"
                    i += 2
                    continue
                }
                inClass = true
                out.unicodeScalars.append(c)
            } else if c == "$" {
                out += "(?!(?s:.))"
            } else {
                out.unicodeScalars.append(c)
            }
            i += 1
        }
        return out
    }

    /// Escapes ECMA-262 allows (with the `u` flag); `\a`, for instance, is not one.
    static func hasOnlyECMAEscapes(_ pattern: String) -> Bool {
        let allowed = Set("dDwWsSbBfnrtv0cxupPk123456789^$\\.*+?()[]{}|/-")
        var iterator = pattern.makeIterator()
        while let c = iterator.next() {
            if c == "\\" {
                guard let e = iterator.next(), allowed.contains(e) else { return false }
            }
        }
        return true
    }
}

struct ECMARegexError: Error {
    var reason: String
}
