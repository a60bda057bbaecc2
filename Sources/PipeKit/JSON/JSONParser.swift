/// Why a text is not JSON, and where (1-based line and column, counted in Unicode scalars).
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String

    /// `line:column: message`.
    public var description: String { "\(line):\(column): \(message)" }
}

/// A strict RFC 8259 parser working on UTF-8 bytes.
///
/// Duplicate object keys are allowed and the last value wins (keeping the key's first
/// position). Nesting deeper than `maxDepth` is an error rather than a stack overflow.
public enum JSONParser {
    public static let maxDepth = 512

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try parse(buffer: buffer) }
        }
        return try result.get()
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> JSONValue in
            try parse(buffer: buffer)
        }
    }

    static func parse(buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        try Reader.document(buffer) { (reader) throws(JSONParseError) in try reader.parseValue(depth: 0) }
    }
}

private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    /// `body`'s result after it has read the one value `bytes` hold: whitespace (and, at the
    /// very start, a UTF-8 byte order mark) before it, whitespace after it, nothing else.
    static func document<T>(
        _ bytes: UnsafeBufferPointer<UInt8>, _ body: (inout Reader) throws(JSONParseError) -> T
    ) throws(JSONParseError) -> T {
        var reader = Reader(bytes: bytes)
        reader.skipWhitespace()
        if reader.position == 0, bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            reader.position = 3
            reader.skipWhitespace()
        }
        if reader.atEnd { throw reader.error("expected a JSON value, found end of input") }
        let value = try body(&reader)
        reader.skipWhitespace()
        if !reader.atEnd { throw reader.error("unexpected \(reader.describeCurrent()) after the JSON value") }
        return value
    }

    var atEnd: Bool { position >= bytes.count }

    func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
        let target = min(offset ?? position, bytes.count)
        var line = 1, column = 1
        var i = 0
        while i < target {
            let b = bytes[i]
            if b == 0x0A {
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1  // count scalars: skip UTF-8 continuation bytes
            }
            i += 1
        }
        return JSONParseError(line: line, column: column, message: message)
    }

    func describeCurrent() -> String {
        guard !atEnd else { return "end of input" }
        let b = bytes[position]
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        if b == 0x20 { return "space" }
        if b < 0x20 { return "control character U+\(String(b, radix: 16, uppercase: true).leftPadded(4))" }
        return "non-ASCII character"
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard position < bytes.count else { throw error("expected a JSON value, found end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("expected a JSON value, found \(describeCurrent())")
        }
    }

    mutating func expectWord(_ word: StaticString) throws(JSONParseError) {
        let start = position
        let utf8 = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for expected in utf8 {
            guard position < bytes.count, bytes[position] == expected else {
                throw error("invalid literal, expected '\(word)'", at: start)
            }
            position += 1
        }
        if position < bytes.count, isIdentifierByte(bytes[position]) {
            throw error("invalid literal, expected '\(word)'", at: start)
        }
    }

    func isIdentifierByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39) || b == 0x5F
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > JSONParser.maxDepth { throw error("nesting deeper than \(JSONParser.maxDepth) levels") }
        position += 1
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(JSONObject())
        }
        // The members, collected directly: a repeated key keeps its first position and
        // takes the last value. Larger objects find repeats through `positions`.
        var keys: [String] = []
        var values: [JSONValue] = []
        keys.reserveCapacity(4)
        values.reserveCapacity(4)
        var positions: [String: [Int]] = [:]
        func add(_ key: String, _ value: JSONValue) {
            let earlier: Int?
            if keys.count < 16 {
                earlier = keys.firstIndex { codePointsEqual($0, key) }
            } else {
                if positions.isEmpty {
                    for (i, key) in keys.enumerated() { positions[key, default: []].append(i) }
                }
                earlier = positions[key]?.first { codePointsEqual(keys[$0], key) }
                if earlier == nil { positions[key, default: []].append(keys.count) }
            }
            if let earlier {
                values[earlier] = value
            } else {
                keys.append(key)
                values.append(value)
            }
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw error("expected a string key in object, found \(describeCurrent())")
            }
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                throw error("expected ':' after object key, found \(describeCurrent())")
            }
            position += 1
            skipWhitespace()
            add(key, try parseValue(depth: depth))
            skipWhitespace()
            guard position < bytes.count else { throw error("expected ',' or '}' after object member, found end of input") }
            let b = bytes[position]
            position += 1
            if b == UInt8(ascii: ",") { continue }
            if b == UInt8(ascii: "}") { return .object(JSONObject(distinctKeys: keys, values: values)) }
            position -= 1
            throw error("expected ',' or '}' after object member, found \(describeCurrent())")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > JSONParser.maxDepth { throw error("nesting deeper than \(JSONParser.maxDepth) levels") }
        position += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(array)
        }
        while true {
            skipWhitespace()
            array.append(try parseValue(depth: depth))
            skipWhitespace()
            guard position < bytes.count else { throw error("expected ',' or ']' after array element, found end of input") }
            let b = bytes[position]
            position += 1
            if b == UInt8(ascii: ",") { continue }
            if b == UInt8(ascii: "]") { return .array(array) }
            position -= 1
            throw error("expected ',' or ']' after array element, found \(describeCurrent())")
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = position
        var negative = false
        if bytes[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        guard position < bytes.count, JSONNumber.isDigit(bytes[position]) else {
            throw error("invalid number: expected a digit after '-'", at: start)
        }
        let intStart = position
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
            if position < bytes.count, JSONNumber.isDigit(bytes[position]) {
                throw error("invalid number: leading zeros are not allowed", at: start)
            }
        } else {
            while position < bytes.count, JSONNumber.isDigit(bytes[position]) { position += 1 }
        }
        let intEnd = position
        var fracStart = position, fracEnd = position
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            fracStart = position
            while position < bytes.count, JSONNumber.isDigit(bytes[position]) { position += 1 }
            fracEnd = position
            if fracEnd == fracStart { throw error("invalid number: expected a digit after '.'", at: start) }
        }
        var exponent = 0
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            var expNegative = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                expNegative = bytes[position] == UInt8(ascii: "-")
                position += 1
            }
            let expStart = position
            while position < bytes.count, JSONNumber.isDigit(bytes[position]) {
                if exponent < 100_000_000 { exponent = exponent * 10 + Int(bytes[position] &- 48) }
                position += 1
            }
            if position == expStart { throw error("invalid number: expected a digit in the exponent", at: start) }
            if expNegative { exponent = -exponent }
        }
        return JSONNumber.make(negative: negative, bytes: bytes, intRange: intStart..<intEnd, fracRange: fracStart..<fracEnd, exponent: exponent)
    }

    mutating func parseString() throws(JSONParseError) -> String {
        let open = position
        position += 1
        let start = position
        var sawNonASCII = false
        // Fast path: no escapes.
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                if sawNonASCII { try validateUTF8(start..<position) }
                position += 1
                return String(decoding: slice, as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("control character in string must be escaped") }
            if b >= 0x80 { sawNonASCII = true }
            position += 1
        }
        guard position < bytes.count else { throw error("unterminated string", at: open) }
        // Slow path: build the bytes with escapes decoded.
        var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<position]))
        if sawNonASCII { try validateUTF8(start..<position) }
        while position < bytes.count {
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                position += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { throw error("control character in string must be escaped") }
            if b == UInt8(ascii: "\\") {
                position += 1
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try readHex4()
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        // A high surrogate must be followed by an escaped low surrogate.
                        if position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") {
                            position += 2
                            let low = try readHex4()
                            guard low >= 0xDC00 && low < 0xE000 else {
                                throw error("invalid surrogate pair in \\u escape", at: position - 6)
                            }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            throw error("unpaired surrogate in \\u escape", at: position - 6)
                        }
                    } else if scalar >= 0xDC00 && scalar < 0xE000 {
                        throw error("unpaired surrogate in \\u escape", at: position - 6)
                    }
                    appendUTF8(UInt32(scalar), to: &out)
                default:
                    position -= 1
                    throw error("invalid escape '\\\(describeCurrent().trimmingQuotes)' in string", at: position - 1)
                }
                continue
            }
            let runStart = position
            var runNonASCII = false
            while position < bytes.count {
                let c = bytes[position]
                if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 { break }
                if c >= 0x80 { runNonASCII = true }
                position += 1
            }
            if runNonASCII { try validateUTF8(runStart..<position) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<position]))
        }
        throw error("unterminated string", at: open)
    }

    mutating func readHex4() throws(JSONParseError) -> Int {
        guard position + 4 <= bytes.count else { throw error("invalid \\u escape: expected 4 hex digits") }
        var value = 0
        for _ in 0..<4 {
            let b = bytes[position]
            let digit: Int
            switch b {
            case 0x30...0x39: digit = Int(b - 0x30)
            case 0x41...0x46: digit = Int(b - 0x41 + 10)
            case 0x61...0x66: digit = Int(b - 0x61 + 10)
            default: throw error("invalid \\u escape: expected 4 hex digits")
            }
            value = value * 16 + digit
            position += 1
        }
        return value
    }

    func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (scalar >> 6)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (scalar >> 12)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (scalar >> 18)))
            out.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    /// Rejects malformed UTF-8 (overlongs, surrogates, truncated sequences) in `range`.
    func validateUTF8(_ range: Range<Int>) throws(JSONParseError) {
        var i = range.lowerBound
        while i < range.upperBound {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            var need = 0
            var minScalar: UInt32 = 0
            var scalar: UInt32
            if b & 0xE0 == 0xC0 { need = 1; scalar = UInt32(b & 0x1F); minScalar = 0x80 }
            else if b & 0xF0 == 0xE0 { need = 2; scalar = UInt32(b & 0x0F); minScalar = 0x800 }
            else if b & 0xF8 == 0xF0 { need = 3; scalar = UInt32(b & 0x07); minScalar = 0x10000 }
            else { throw error("invalid UTF-8 in string", at: i) }
            guard i + need < range.upperBound + 0, i + need <= range.upperBound - 1 + 1 else { throw error("invalid UTF-8 in string", at: i) }
            for k in 1...need {
                guard i + k < range.upperBound else { throw error("invalid UTF-8 in string", at: i) }
                let c = bytes[i + k]
                guard c & 0xC0 == 0x80 else { throw error("invalid UTF-8 in string", at: i) }
                scalar = (scalar << 6) | UInt32(c & 0x3F)
            }
            if scalar < minScalar || scalar > 0x10FFFF || (scalar >= 0xD800 && scalar < 0xE000) {
                throw error("invalid UTF-8 in string", at: i)
            }
            i += need + 1
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }

    fileprivate var trimmingQuotes: String {
        hasPrefix("'") && hasSuffix("'") && count >= 2 ? String(dropFirst().dropLast()) : self
    }
}

/// Reads a JSON text member by member, without building the objects a caller only looks
/// into: for a few members of a small object read many times (a streamed reply's deltas).
/// Strict as `JSONParser`: a text it reads without error is one `JSONParser.parse` accepts,
/// and a value it hands over (`value()`) is the one the parser would build.
struct JSONScan {
    private var reader: Reader
    private var depth = 0

    private init(_ reader: Reader) {
        self.reader = reader
    }

    /// `body`'s result after it has read the one value `text` holds, as `JSONParser.parse`
    /// reads a document (`Reader.document`).
    static func scan<T>(_ text: String, _ body: (inout JSONScan) throws(JSONParseError) -> T) throws(JSONParseError) -> T {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> T in
                try Reader.document(buffer) { (reader) throws(JSONParseError) -> T in
                    var scan = JSONScan(reader)
                    defer { reader = scan.reader }
                    return try body(&scan)
                }
            }
        }
        return try result.get()
    }

    /// The value here is an object.
    var atObject: Bool { !reader.atEnd && reader.bytes[reader.position] == UInt8(ascii: "{") }

    /// The value here, built.
    mutating func value() throws(JSONParseError) -> JSONValue {
        try reader.parseValue(depth: depth)
    }

    /// Reads the object here (`atObject`): `member` gets each key with the scan at its value,
    /// and reads the value or leaves it, to be parsed and dropped.
    mutating func members(_ member: (String, inout JSONScan) throws(JSONParseError) -> Void) throws(JSONParseError) {
        depth += 1
        if depth > JSONParser.maxDepth { throw reader.error("nesting deeper than \(JSONParser.maxDepth) levels") }
        reader.position += 1
        reader.skipWhitespace()
        if !reader.atEnd, reader.bytes[reader.position] == UInt8(ascii: "}") {
            reader.position += 1
            depth -= 1
            return
        }
        while true {
            reader.skipWhitespace()
            guard !reader.atEnd, reader.bytes[reader.position] == UInt8(ascii: "\"") else {
                throw reader.error("expected a string key in object, found \(reader.describeCurrent())")
            }
            let key = try reader.parseString()
            reader.skipWhitespace()
            guard !reader.atEnd, reader.bytes[reader.position] == UInt8(ascii: ":") else {
                throw reader.error("expected ':' after object key, found \(reader.describeCurrent())")
            }
            reader.position += 1
            reader.skipWhitespace()
            if reader.atEnd { throw reader.error("expected a JSON value, found end of input") }
            let start = reader.position
            try member(key, &self)
            if reader.position == start { _ = try reader.parseValue(depth: depth) }
            reader.skipWhitespace()
            guard !reader.atEnd else { throw reader.error("expected ',' or '}' after object member, found end of input") }
            let byte = reader.bytes[reader.position]
            reader.position += 1
            if byte == UInt8(ascii: ",") { continue }
            if byte == UInt8(ascii: "}") { break }
            reader.position -= 1
            throw reader.error("expected ',' or '}' after object member, found \(reader.describeCurrent())")
        }
        depth -= 1
    }
}
