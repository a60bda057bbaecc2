/// A JSON object that keeps its members in insertion order.
///
/// Order is kept so that serialization is deterministic; equality and hashing ignore it,
/// as JSON semantics require (`{"a":1,"b":2} == {"b":2,"a":1}`). Setting an existing key
/// replaces its value in place; setting a new key appends it; setting nil removes it.
public struct JSONObject: Sendable {
    public private(set) var keys: [String]
    public private(set) var values: [JSONValue]
    /// Key → position, built only for larger objects (small ones are scanned linearly).
    private var index: [String: Int]

    private static let indexThreshold = 12

    public init() {
        keys = []
        values = []
        index = [:]
    }

    /// Creates an object from key/value pairs; a repeated key keeps its first position and its last value.
    public init(_ pairs: [(String, JSONValue)]) {
        self.init()
        keys.reserveCapacity(pairs.count)
        values.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    /// An object from keys that are already distinct (by code points), as the parser
    /// collects them.
    init(distinctKeys keys: [String], values: [JSONValue]) {
        self.keys = keys
        self.values = values
        index = [:]
        rebuildIndex()
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// The position of `key`, or nil. Keys are compared by code points, as JSON requires
    /// ("é" and "e\u{301}" are different keys, though Swift's `==` calls them equal).
    public func position(of key: String) -> Int? {
        if !index.isEmpty {
            guard let i = index[key] else { return nil }
            if codePointsEqual(keys[i], key) { return i }
            // A canonically equivalent but different key shares the hash entry: scan.
        }
        for i in keys.indices where codePointsEqual(keys[i], key) { return i }
        return nil
    }

    public subscript(key: String) -> JSONValue? {
        get {
            guard let i = position(of: key) else { return nil }
            return values[i]
        }
        set {
            if let i = position(of: key) {
                if let newValue {
                    values[i] = newValue
                } else {
                    keys.remove(at: i)
                    values.remove(at: i)
                    rebuildIndex()
                }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
                if !index.isEmpty {
                    index[key] = keys.count - 1
                } else if keys.count > Self.indexThreshold {
                    rebuildIndex()
                }
            }
        }
    }

    private mutating func rebuildIndex() {
        index = [:]
        guard keys.count > Self.indexThreshold else { return }
        index.reserveCapacity(keys.count)
        for (i, key) in keys.enumerated() { index[key] = i }
    }
}

extension JSONObject: Sequence {
    public struct Iterator: IteratorProtocol {
        let object: JSONObject
        var position = 0
        public mutating func next() -> (key: String, value: JSONValue)? {
            guard position < object.keys.count else { return nil }
            defer { position += 1 }
            return (object.keys[position], object.values[position])
        }
    }

    public func makeIterator() -> Iterator { Iterator(object: self) }
    public var underestimatedCount: Int { keys.count }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
}

extension JSONObject: Hashable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.keys.elementsEqual(rhs.keys, by: codePointsEqual) { return lhs.values == rhs.values }
        for (i, key) in lhs.keys.enumerated() {
            guard let other = rhs[key], other == lhs.values[i] else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-insensitive: combine the members' own hashes commutatively.
        var sum = 0
        for (i, key) in keys.enumerated() {
            var member = Hasher()
            member.combine(key)
            member.combine(values[i])
            sum = sum &+ member.finalize()
        }
        hasher.combine(count)
        hasher.combine(sum)
    }
}
