/// An ordered list of HTTP header fields with case-insensitive lookup by name.
///
/// Values are never printed: `description` shows the names only, because
/// request headers carry API keys.
public struct HTTPHeaders: Sendable, Equatable {
    /// The fields in the order they were added or received.
    public private(set) var fields: [(name: String, value: String)]

    public init() {
        fields = []
    }

    public init(_ fields: [(name: String, value: String)]) {
        self.fields = fields
    }

    /// The value of the first field named `name` (any case), or nil.
    public subscript(name: String) -> String? {
        fields.first { Self.sameName($0.name, name) }?.value
    }

    /// Every value of the fields named `name` (any case), in order.
    public func values(for name: String) -> [String] {
        fields.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    public func contains(_ name: String) -> Bool {
        self[name] != nil
    }

    /// Appends a field, keeping any existing field of the same name.
    public mutating func add(name: String, value: String) {
        fields.append((name, value))
    }

    /// Replaces every field named `name` (any case) with one field.
    public mutating func set(name: String, value: String) {
        remove(name: name)
        fields.append((name, value))
    }

    public mutating func remove(name: String) {
        fields.removeAll { Self.sameName($0.name, name) }
    }

    /// Whether two names are equal in any case (`lowercased()` of both equal). ASCII names,
    /// which every HTTP field name is, are compared byte by byte without a lowercased copy of
    /// each (a request and its reply look up a few fields each, several times a call).
    static func sameName(_ a: String, _ b: String) -> Bool {
        let (x, y) = (a.utf8, b.utf8)
        guard x.allSatisfy({ $0 < 0x80 }), y.allSatisfy({ $0 < 0x80 }) else { return a.lowercased() == b.lowercased() }
        return x.count == y.count && zip(x, y).allSatisfy { lowered($0) == lowered($1) }
    }

    private static func lowered(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }
}

extension HTTPHeaders: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements.map { (name: $0.0, value: $0.1) })
    }
}

extension HTTPHeaders: Sequence {
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }
}

extension HTTPHeaders: CustomStringConvertible {
    /// The header names, never their values.
    public var description: String {
        "[" + fields.map(\.name).joined(separator: ", ") + "]"
    }
}

extension HTTPHeaders: CustomReflectable {
    /// `dump` and debuggers see the names only: header values carry API keys.
    public var customMirror: Mirror {
        Mirror(self, children: fields.map { (label: $0.name, value: "<redacted>" as Any) }, displayStyle: .dictionary)
    }
}
