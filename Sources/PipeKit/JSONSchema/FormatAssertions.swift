/// Checks for the `format` values the validator asserts (only when asked to: by
/// `JSONSchemaOptions.assertFormat` or a meta-schema with the format-assertion vocabulary).
/// Unknown formats are annotations and always pass.
enum FormatAssertions {
    static func checker(for format: String) -> (@Sendable (String) -> Bool)? {
        switch format {
        case "date": return isDate
        case "time": return isTime
        case "date-time": return isDateTime
        case "duration": return isDuration
        case "email": return { isEmail($0, international: false) }
        case "idn-email": return { isEmail($0, international: true) }
        case "hostname": return { Hostnames.isHostname($0) }
        case "idn-hostname": return { Hostnames.isIDNHostname($0) }
        case "ipv4": return isIPv4
        case "ipv6": return isIPv6
        case "uri": return { URISyntax.isValid($0, international: false, allowRelative: false) }
        case "uri-reference": return { URISyntax.isValid($0, international: false, allowRelative: true) }
        case "iri": return { URISyntax.isValid($0, international: true, allowRelative: false) }
        case "iri-reference": return { URISyntax.isValid($0, international: true, allowRelative: true) }
        case "uri-template": return URISyntax.isTemplate
        case "uuid": return isUUID
        case "regex": return isRegex
        case "json-pointer": return isJSONPointer
        case "relative-json-pointer": return isRelativeJSONPointer
        default: return nil
        }
    }

    // MARK: - Dates and times (RFC 3339)

    /// Parses exactly `count` ASCII digits at `i`.
    static func digits(_ s: [UInt8], _ i: Int, _ count: Int) -> Int? {
        guard i + count <= s.count else { return nil }
        var value = 0
        for k in i..<(i + count) {
            guard s[k] >= 48 && s[k] <= 57 else { return nil }
            value = value * 10 + Int(s[k] - 48)
        }
        return value
    }

    static func isLeapYear(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func parseDate(_ s: [UInt8]) -> Bool {
        guard s.count == 10, s[4] == UInt8(ascii: "-"), s[7] == UInt8(ascii: "-"),
              let year = digits(s, 0, 4), let month = digits(s, 5, 2), let day = digits(s, 8, 2) else { return false }
        return (1...12).contains(month) && day >= 1 && day <= daysIn(month: month, year: year)
    }

    static func parseTime(_ s: [UInt8]) -> Bool {
        guard s.count >= 9, s[2] == UInt8(ascii: ":"), s[5] == UInt8(ascii: ":"),
              let hour = digits(s, 0, 2), let minute = digits(s, 3, 2), let second = digits(s, 6, 2) else { return false }
        var i = 8
        if i < s.count, s[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < s.count, s[i] >= 48 && s[i] <= 57 { i += 1 }
            guard i > start else { return false }
        }
        guard i < s.count else { return false }
        var offsetMinutes = 0
        if s[i] == UInt8(ascii: "Z") || s[i] == UInt8(ascii: "z") {
            guard i + 1 == s.count else { return false }
        } else if s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
            guard i + 6 == s.count, s[i + 3] == UInt8(ascii: ":"),
                  let oh = digits(s, i + 1, 2), let om = digits(s, i + 4, 2), oh <= 23, om <= 59 else { return false }
            offsetMinutes = (oh * 60 + om) * (s[i] == UInt8(ascii: "+") ? 1 : -1)
        } else {
            return false
        }
        guard hour <= 23, minute <= 59, second <= 60 else { return false }
        if second == 60 {
            // A leap second only exists at 23:59:60 UTC.
            let utc = ((hour * 60 + minute - offsetMinutes) % 1440 + 1440) % 1440
            return utc == 23 * 60 + 59
        }
        return true
    }

    static let isDate: @Sendable (String) -> Bool = { parseDate(Array($0.utf8)) }
    static let isTime: @Sendable (String) -> Bool = { parseTime(Array($0.utf8)) }
    static let isDateTime: @Sendable (String) -> Bool = { text in
        let s = Array(text.utf8)
        guard s.count > 11, s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: "t") else { return false }
        return parseDate(Array(s[0..<10])) && parseTime(Array(s[11...]))
    }

    /// RFC 3339 appendix A `duration`.
    static let isDuration: @Sendable (String) -> Bool = { text in
        let s = Array(text.utf8)
        guard s.first == UInt8(ascii: "P"), s.count > 1 else { return false }
        var i = 1
        /// Reads `digits unit` pairs; returns the units in order.
        func components(until stop: UInt8?) -> [UInt8]? {
            var units: [UInt8] = []
            while i < s.count, s[i] != stop ?? 0 {
                let start = i
                while i < s.count, s[i] >= 48 && s[i] <= 57 { i += 1 }
                guard i > start, i < s.count else { return nil }
                units.append(s[i])
                i += 1
            }
            return units
        }
        guard let dateUnits = components(until: UInt8(ascii: "T")) else { return false }
        var timeUnits: [UInt8] = []
        var hasTime = false
        if i < s.count, s[i] == UInt8(ascii: "T") {
            hasTime = true
            i += 1
            guard let units = components(until: nil), !units.isEmpty else { return false }
            timeUnits = units
        }
        guard i == s.count else { return false }
        if dateUnits == [UInt8(ascii: "W")] { return !hasTime }
        // Consecutive runs: Y[M[D]] | M[D] | D and H[M[S]] | M[S] | S.
        func isRun(_ units: [UInt8], _ order: [UInt8]) -> Bool {
            guard let first = units.first, let start = order.firstIndex(of: first) else { return units.isEmpty }
            return Array(order[start...].prefix(units.count)) == units
        }
        let dateOK = isRun(dateUnits, Array("YMD".utf8))
        let timeOK = isRun(timeUnits, Array("HMS".utf8))
        return dateOK && timeOK && (!dateUnits.isEmpty || hasTime)
    }

    // MARK: - Internet addresses

    static let isIPv4: @Sendable (String) -> Bool = { text in
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  !(part.count > 1 && part.hasPrefix("0")), let value = Int(part), value <= 255 else { return false }
        }
        return true
    }

    /// RFC 4291 text form: eight hex groups, one `::` compression, an optional IPv4 tail; no zone, no prefix.
    static let isIPv6: @Sendable (String) -> Bool = { text in
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        func groups(_ part: String) -> [String]? {
            if part.isEmpty { return [] }
            let groups = part.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            return groups.contains(where: \.isEmpty) ? nil : groups
        }
        guard let head = groups(halves[0]), let tail = halves.count == 2 ? groups(halves[1]) : [] else { return false }
        var all = head + tail
        var count = all.count
        if let last = all.last, last.contains(".") {
            guard isIPv4(last) else { return false }
            all.removeLast()
            count += 1  // an IPv4 tail is two groups
        }
        guard all.allSatisfy({ $0.utf8.count <= 4 && $0.utf8.allSatisfy(isHexDigit) }) else { return false }
        return halves.count == 2 ? count <= 7 : count == 8
    }

    static func isHexDigit(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102)
    }

    /// RFC 5321 mailbox (`international`: RFC 6531, allowing non-ASCII).
    static func isEmail(_ text: String, international: Bool) -> Bool {
        guard let at = text.lastIndex(of: "@") else { return false }
        let local = text[..<at]
        let domain = String(text[text.index(after: at)...])
        guard !local.isEmpty, !domain.isEmpty else { return false }
        if local.hasPrefix("\"") {
            guard local.count >= 2, local.hasSuffix("\"") else { return false }
            var escaped = false
            for scalar in local.unicodeScalars.dropFirst().dropLast() {
                if escaped { escaped = false; continue }
                if scalar == "\\" { escaped = true; continue }
                if scalar == "\"" || scalar.value < 0x20 || scalar.value == 0x7F { return false }
                if scalar.value > 0x7E && !international { return false }
            }
            if escaped { return false }
        } else {
            let atext = Set("!#$%&'*+-/=?^_`{|}~".unicodeScalars)
            for atom in local.split(separator: ".", omittingEmptySubsequences: false) {
                guard !atom.isEmpty else { return false }
                for scalar in atom.unicodeScalars {
                    let ok = (scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || atext.contains(scalar)))
                        || (international && scalar.value > 0x7F && scalar.value != 0xFF20)
                    if !ok { return false }
                }
            }
        }
        if domain.hasPrefix("[") && domain.hasSuffix("]") {
            let literal = String(domain.dropFirst().dropLast())
            if literal.hasPrefix("IPv6:") { return isIPv6(String(literal.dropFirst(5))) }
            return isIPv4(literal)
        }
        return international ? Hostnames.isIDNHostname(domain) : Hostnames.isHostname(domain)
    }

    // MARK: - Identifiers and pointers

    static let isUUID: @Sendable (String) -> Bool = { text in
        let s = Array(text.utf8)
        guard s.count == 36 else { return false }
        for (i, b) in s.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                if b != UInt8(ascii: "-") { return false }
            } else if !isHexDigit(b) {
                return false
            }
        }
        return true
    }

    static let isJSONPointer: @Sendable (String) -> Bool = { text in
        guard text.isEmpty || text.hasPrefix("/") else { return false }
        var iterator = text.makeIterator()
        while let c = iterator.next() {
            if c == "~" {
                guard let next = iterator.next(), next == "0" || next == "1" else { return false }
            }
        }
        return true
    }

    static let isRelativeJSONPointer: @Sendable (String) -> Bool = { text in
        let s = Array(text.utf8)
        var i = 0
        while i < s.count, s[i] >= 48 && s[i] <= 57 { i += 1 }
        guard i > 0, !(i > 1 && s[0] == UInt8(ascii: "0")) else { return false }
        let rest = String(decoding: s[i...], as: UTF8.self)
        return rest == "#" || isJSONPointer(rest)
    }

    /// An ECMA-262 regular expression (rejecting syntax only other engines accept).
    static let isRegex: @Sendable (String) -> Bool = { text in
        guard ECMARegex.hasOnlyECMAEscapes(text) else { return false }
        for foreign in ["(?P", "(?#", "(?i", "(?m", "(?s", "(?x", "(?u", "(?-"] where text.contains(foreign) { return false }
        if (try? ECMARegex(text)) != nil { return true }
        // ES2018 allows lookbehind of any length; ICU only bounded ones. For the syntax check,
        // bound the repetitions inside lookbehinds: the pattern is valid if that compiles.
        guard text.contains("(?<=") || text.contains("(?<!") else { return false }
        return (try? ECMARegex(boundingLookbehinds(text))) != nil
    }

    /// `*`, `+` and `{n,}` inside `(?<=...)` and `(?<!...)` made bounded (at most 255).
    static func boundingLookbehinds(_ pattern: String) -> String {
        let scalars = Array(pattern.unicodeScalars)
        var out = String.UnicodeScalarView()
        var depth = 0
        var lookbehindDepths: [Int] = []
        var inClass = false
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "\\", i + 1 < scalars.count {
                out.append(c)
                out.append(scalars[i + 1])
                i += 2
                continue
            }
            if inClass {
                if c == "]" { inClass = false }
                out.append(c)
                i += 1
                continue
            }
            let inside = !lookbehindDepths.isEmpty
            switch c {
            case "[": inClass = true
            case "(":
                depth += 1
                if i + 3 < scalars.count, scalars[i + 1] == "?", scalars[i + 2] == "<", scalars[i + 3] == "=" || scalars[i + 3] == "!" {
                    lookbehindDepths.append(depth)
                }
            case ")":
                if lookbehindDepths.last == depth { lookbehindDepths.removeLast() }
                depth -= 1
            case "*" where inside:
                out.append(contentsOf: "{0,255}".unicodeScalars)
                i += 1
                continue
            case "+" where inside && !(i > 0 && ["*", "+", "?", "}"].contains(scalars[i - 1])):
                out.append(contentsOf: "{1,255}".unicodeScalars)
                i += 1
                continue
            case "," where inside && i + 1 < scalars.count && scalars[i + 1] == "}":
                out.append(contentsOf: ",255".unicodeScalars)
                i += 1
                continue
            default: break
            }
            out.append(c)
            i += 1
        }
        return String(out)
    }
}
