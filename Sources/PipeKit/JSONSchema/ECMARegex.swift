import Foundation
#if os(Linux) && canImport(_FoundationICU)
import _FoundationICU
#endif

/// A regular expression written in ECMA-262 syntax (as JSON Schema requires), translated to
/// ICU syntax.
///
/// The translation keeps ECMA meanings where ICU differs: `\d`, `\w` and their negations are
/// ASCII-only; `\s` is ECMA's whitespace set; `$` matches only at the very end of the input;
/// `\u{…}` and surrogate-pair `\uXXXX\uXXXX` escapes name code points. Patterns are searched,
/// not anchored, as the spec says.
///
/// A backtracking matcher can take exponential time (`(\w+\s?)*!` on 60 characters: 32 s), so
/// one match may take at most `stepLimit` steps; past that it ends as `.exhausted`, not as a
/// hang. A match also ends when its task is cancelled.
final class ECMARegex: Sendable {
    let source: String
    /// The most steps one match may take: a character scanned or a backtracking state saved.
    /// A pattern that is linear in its input takes a few per character.
    let stepLimit: Int
    private let matcher: Matcher

    enum Outcome: Equatable, Sendable {
        case matched, notMatched
        /// The match needed more than it may use; `reason` says what, as in
        /// "needed more than 10000000 matching steps".
        case exhausted(reason: String)
        /// The task that ran the match was cancelled.
        case cancelled
    }

    private enum Matcher: Sendable {
        /// Patterns simple enough for the built-in matcher never start ICU, whose regex
        /// setup costs milliseconds and megabytes (the meta-schema's own patterns are such).
        case simple(SimpleRegex)
        case icu(ICURegex)
    }

    init(_ source: String, stepLimit: Int = JSONSchemaOptions.defaultPatternStepLimit) throws(ECMARegexError) {
        self.source = source
        self.stepLimit = stepLimit
        if let simple = SimpleRegex(source) {
            matcher = .simple(simple)
            return
        }
        guard let icu = ICURegex(try ECMARegex.translate(source), stepLimit: stepLimit) else {
            throw ECMARegexError(reason: "not a valid regular expression")
        }
        matcher = .icu(icu)
    }

    /// Whether the pattern matches somewhere in `string`, within the step limit.
    func match(_ string: String) -> Outcome {
        switch matcher {
        case .simple(let simple):
            guard let found = simple.matches(string, stepLimit: stepLimit) else { return .exhausted(reason: Self.tooManySteps(stepLimit)) }
            return found ? .matched : .notMatched
        case .icu(let icu):
            return icu.match(string)
        }
    }

    /// True when the pattern matches somewhere in `string` (false when the match ran out of steps).
    func matches(_ string: String) -> Bool { match(string) == .matched }

    static func tooManySteps(_ limit: Int) -> String { "needed more than \(limit) matching steps" }

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

#if os(Linux) && canImport(_FoundationICU)
/// A pattern compiled by ICU and matched through its C API, which, unlike NSRegularExpression,
/// can bound a match's steps and stop it when the task running it is cancelled.
private final class ICURegex: @unchecked Sendable {
    // @unchecked: the compiled pattern is only ever cloned, never matched; each match uses a
    // clone of its own, taken from `idle` under its lock and put back after.
    private let pattern: OpaquePointer
    private let idle = Locked<[OpaquePointer]>([])
    private let stepLimit: Int

    init?(_ pattern: String, stepLimit: Int) {
        let utf16 = Array(pattern.utf16)
        var status = U_ZERO_ERROR
        let compiled = utf16.withUnsafeBufferPointer { swift_uregex_open($0.baseAddress, Int32($0.count), 0, nil, &status) }
        guard let compiled, status.rawValue <= U_ZERO_ERROR.rawValue else { return nil }
        self.pattern = compiled
        self.stepLimit = stepLimit
    }

    deinit {
        for regex in idle.withLock({ $0 }) { swift_uregex_close(regex) }
        swift_uregex_close(pattern)
    }

    func match(_ string: String) -> ECMARegex.Outcome {
        var status = U_ZERO_ERROR
        guard let regex = idle.withLock({ $0.popLast() }) ?? makeMatcher(&status) else { return .notMatched }
        defer { idle.withLock { $0.append(regex) } }
        var text = Array(string.utf16)
        guard let length = Int32(exactly: text.count) else { return .exhausted(reason: "cannot match 2 GB of text or more") }
        if text.isEmpty { text = [0] }  // ICU refuses a null text pointer, even for no text
        let found = text.withUnsafeBufferPointer { buffer in
            swift_uregex_setText(regex, buffer.baseAddress, length, &status)
            return swift_uregex_find(regex, 0, &status) != 0
        }
        switch status {
        case U_REGEX_TIME_OUT: return .exhausted(reason: ECMARegex.tooManySteps(stepLimit))
        case U_REGEX_STACK_OVERFLOW: return .exhausted(reason: "needed more than 8 MB to backtrack")
        case U_REGEX_STOPPED_BY_CALLER: return .cancelled
        default: return found ? .matched : .notMatched
        }
    }

    /// A clone of the pattern, bounded in steps and stopped when its task is cancelled.
    private func makeMatcher(_ status: inout UErrorCode) -> OpaquePointer? {
        guard let regex = swift_uregex_clone(pattern, &status) else { return nil }
        // ICU counts time in units of 10,000 saved backtracking states.
        swift_uregex_setTimeLimit(regex, Int32(clamping: max(1, stepLimit / 10_000)), &status)
        // Called every 10,000 states; returning false stops the match.
        swift_uregex_setMatchCallback(regex, { _, _ in withUnsafeCurrentTask { $0?.isCancelled ?? false } ? 0 : 1 }, nil, &status)
        return regex
    }
}
#else
/// Where ICU's C API is not available (macOS), NSRegularExpression: no step limit.
private final class ICURegex: @unchecked Sendable {
    // @unchecked: NSRegularExpression is immutable and documented as safe to share across threads.
    private let regex: NSRegularExpression

    init?(_ pattern: String, stepLimit: Int) {
        guard let regex = try? NSRegularExpression(pattern: pattern, options: []) else { return nil }
        self.regex = regex
    }

    func match(_ string: String) -> ECMARegex.Outcome {
        let range = NSRange(location: 0, length: (string as NSString).length)
        return regex.firstMatch(in: string, options: [], range: range) != nil ? .matched : .notMatched
    }
}
#endif
