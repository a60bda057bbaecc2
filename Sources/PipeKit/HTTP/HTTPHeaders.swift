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
        let key = name.lowercased()
        return fields.first { $0.name.lowercased() == key }?.value
    }

    /// Every value of the fields named `name` (any case), in order.
    public func values(for name: String) -> [String] {
        let key = name.lowercased()
        return fields.filter { $0.name.lowercased() == key }.map(\.value)
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
        let key = name.lowercased()
        fields.removeAll { $0.name.lowercased() == key }
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
