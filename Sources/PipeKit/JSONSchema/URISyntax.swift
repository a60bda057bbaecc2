/// RFC 3986 (URI), RFC 3987 (IRI) and RFC 6570 (URI Template) syntax checks for `format`.
enum URISyntax {
    private static let unreserved = Set("-._~".unicodeScalars)
    private static let subDelims = Set("!$&'()*+,;=".unicodeScalars)

    private static func isAlnum(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c))
    }

    private static func isHex(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (("a"..."f").contains(c) || ("A"..."F").contains(c) || ("0"..."9").contains(c))
    }

    /// True when `part` consists of allowed characters and well-formed `%XX` escapes.
    private static func check(_ part: ArraySlice<Unicode.Scalar>, international: Bool, extra: Set<Unicode.Scalar>) -> Bool {
        var i = part.startIndex
        while i < part.endIndex {
            let c = part[i]
            if c == "%" {
                guard i + 2 < part.endIndex, isHex(part[i + 1]), isHex(part[i + 2]) else { return false }
                i += 3
                continue
            }
            let allowed = isAlnum(c) || unreserved.contains(c) || subDelims.contains(c) || extra.contains(c)
                || (international && c.value > 0x9F && !(0xD800...0xDFFF).contains(c.value) && c.value != 0xFFFE && c.value != 0xFFFF)
            if !allowed { return false }
            i += 1
        }
        return true
    }

    private static let pathExtra = Set(":@/".unicodeScalars)
    private static let queryExtra = Set(":@/?".unicodeScalars)
    private static let userExtra = Set(":".unicodeScalars)

    /// A URI or IRI (`international`), or also a relative reference (`allowRelative`).
    static func isValid(_ text: String, international: Bool, allowRelative: Bool) -> Bool {
        let scalars = Array(text.unicodeScalars)
        var end = scalars.endIndex
        if let hash = scalars.firstIndex(of: "#") {
            guard check(scalars[(hash + 1)...], international: international, extra: queryExtra) else { return false }
            end = hash
        }
        if let question = scalars[..<end].firstIndex(of: "?") {
            guard check(scalars[(question + 1)..<end], international: international, extra: queryExtra) else { return false }
            end = question
        }
        var rest = scalars[..<end]
        // Scheme: letters, digits, + - . before the first ':' (and before any '/').
        let firstColon = rest.firstIndex(of: ":")
        let firstSlash = rest.firstIndex(of: "/")
        var hasScheme = false
        if let colon = firstColon, firstSlash == nil || colon < firstSlash! {
            let scheme = rest[..<colon]
            guard let first = scheme.first, first.isASCII, first.properties.isAlphabetic,
                  scheme.allSatisfy({ isAlnum($0) || $0 == "+" || $0 == "-" || $0 == "." }) else { return false }
            hasScheme = true
            rest = rest[(colon + 1)...]
        }
        if !hasScheme && !allowRelative { return false }
        if rest.starts(with: ["/", "/"]) {
            let authorityStart = rest.startIndex + 2
            let authorityEnd = rest[authorityStart...].firstIndex(of: "/") ?? rest.endIndex
            guard isAuthority(rest[authorityStart..<authorityEnd], international: international) else { return false }
            rest = rest[authorityEnd...]
        }
        return check(rest, international: international, extra: pathExtra)
    }

    private static func isAuthority(_ authority: ArraySlice<Unicode.Scalar>, international: Bool) -> Bool {
        var hostPart = authority
        if let at = authority.firstIndex(of: "@") {
            guard check(authority[..<at], international: international, extra: userExtra) else { return false }
            hostPart = authority[(at + 1)...]
        }
        if hostPart.first == "[" {
            guard let close = hostPart.firstIndex(of: "]") else { return false }
            let literal = String(String.UnicodeScalarView(hostPart[(hostPart.startIndex + 1)..<close]))
            let afterHost = hostPart[(close + 1)...]
            guard afterHost.isEmpty || (afterHost.first == ":" && afterHost.dropFirst().allSatisfy { ("0"..."9").contains($0) }) else { return false }
            if literal.hasPrefix("v") || literal.hasPrefix("V") {
                let parts = literal.dropFirst().split(separator: ".", maxSplits: 1)
                return parts.count == 2 && !parts[0].isEmpty && parts[0].unicodeScalars.allSatisfy(isHex) && !parts[1].isEmpty
            }
            return FormatAssertions.isIPv6(literal)
        }
        var host = hostPart
        if let colon = hostPart.firstIndex(of: ":") {
            guard hostPart[(colon + 1)...].allSatisfy({ ("0"..."9").contains($0) }) else { return false }
            host = hostPart[..<colon]
        }
        return check(host, international: international, extra: [])
    }

    /// RFC 6570 level-4 URI Template.
    static let isTemplate: @Sendable (String) -> Bool = { text in
        let scalars = Array(text.unicodeScalars)
        let forbidden = Set("\"<>\\^`|} ".unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if c == "{" {
                guard let close = scalars[i...].firstIndex(of: "}") else { return false }
                guard isExpression(scalars[(i + 1)..<close]) else { return false }
                i = close + 1
                continue
            }
            if c == "%" {
                guard i + 2 < scalars.count, isHex(scalars[i + 1]), isHex(scalars[i + 2]) else { return false }
                i += 3
                continue
            }
            if c.value < 0x21 || c.value == 0x7F || forbidden.contains(c) { return false }
            i += 1
        }
        return true
    }

    private static func isExpression(_ body: ArraySlice<Unicode.Scalar>) -> Bool {
        var rest = body
        if let first = rest.first, "+#./;?&".unicodeScalars.contains(first) { rest = rest.dropFirst() }
        guard !rest.isEmpty else { return false }
        for spec in rest.split(separator: ",", omittingEmptySubsequences: false) {
            var name = spec[...]
            if let colon = spec.firstIndex(of: ":") {
                let digits = spec[(colon + 1)...]
                guard let first = digits.first, ("1"..."9").contains(first), digits.count <= 4,
                      digits.allSatisfy({ ("0"..."9").contains($0) }) else { return false }
                name = spec[..<colon]
            } else if spec.last == "*" {
                name = spec.dropLast()
            }
            guard isVarname(name) else { return false }
        }
        return true
    }

    private static func isVarname(_ name: ArraySlice<Unicode.Scalar>) -> Bool {
        guard !name.isEmpty, name.first != ".", name.last != "." else { return false }
        var i = name.startIndex
        var previousDot = false
        while i < name.endIndex {
            let c = name[i]
            if c == "%" {
                guard i + 2 < name.endIndex, isHex(name[i + 1]), isHex(name[i + 2]) else { return false }
                i += 3
                previousDot = false
                continue
            }
            if c == "." {
                if previousDot { return false }
                previousDot = true
            } else {
                guard isAlnum(c) || c == "_" else { return false }
                previousDot = false
            }
            i += 1
        }
        return true
    }
}
