/// The static type of a condition's value: a union of JSON kinds, plus "may be absent".
///
/// A number covers integers. "Absent" is a value that may not exist at run time: an
/// optional property, an index past the end, a stage that may be skipped, a loop value in
/// the first iteration. It evaluates to null, and `??` removes it together with null.
/// When a schema pins the value to a few constants (`const`, `enum`), `values` lists them,
/// so `verdict == "aproved"` can be caught.
public struct ExpressionType: Sendable, Hashable, CustomStringConvertible {
    /// The JSON kinds a value may have.
    public struct Kinds: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let null = Kinds(rawValue: 1 << 0)
        public static let boolean = Kinds(rawValue: 1 << 1)
        public static let number = Kinds(rawValue: 1 << 2)
        public static let string = Kinds(rawValue: 1 << 3)
        public static let array = Kinds(rawValue: 1 << 4)
        public static let object = Kinds(rawValue: 1 << 5)
        public static let all: Kinds = [.null, .boolean, .number, .string, .array, .object]
    }

    public var kinds: Kinds
    /// The value may not exist (it then evaluates to null).
    public var mayBeAbsent: Bool
    /// The only values possible, when a schema's `const` or `enum` says so.
    public var values: [JSONValue]?

    public init(_ kinds: Kinds, mayBeAbsent: Bool = false, values: [JSONValue]? = nil) {
        self.kinds = kinds
        self.mayBeAbsent = mayBeAbsent
        self.values = values
    }

    /// Any JSON value: what an unconstrained schema (or one we cannot read) allows. The
    /// checker never reports an error about a value of this type.
    public static let any = ExpressionType(.all)
    public static let null = ExpressionType(.null)
    public static let boolean = ExpressionType(.boolean)
    public static let number = ExpressionType(.number)
    public static let string = ExpressionType(.string)
    public static let array = ExpressionType(.array)
    public static let object = ExpressionType(.object)

    /// The type of one literal value.
    public init(of value: JSONValue) {
        let kind: Kinds = switch value {
        case .null: .null
        case .bool: .boolean
        case .number: .number
        case .string: .string
        case .array: .array
        case .object: .object
        }
        self.init(kind, values: [value])
    }

    /// Every kind but perhaps null is possible: nothing useful can be said about the value
    /// (`x ?? 0` where `x` is anything is still anything).
    public var isAny: Bool { kinds.isSuperset(of: Kinds.all.subtracting(.null)) }

    /// The kinds other than null (what remains once a value is known to be present).
    public var presentKinds: Kinds { kinds.subtracting(.null) }

    /// Null or absent is possible.
    public var isOptional: Bool { kinds.contains(.null) || mayBeAbsent }

    /// This type or `other`.
    public func union(_ other: ExpressionType) -> ExpressionType {
        var values: [JSONValue]?
        if let mine = self.values, let theirs = other.values {
            values = mine + theirs.filter { !mine.contains($0) }
        }
        return ExpressionType(kinds.union(other.kinds), mayBeAbsent: mayBeAbsent || other.mayBeAbsent, values: values)
    }

    /// This type once null and absent are replaced by something else.
    public var withoutNull: ExpressionType {
        ExpressionType(kinds.subtracting(.null), mayBeAbsent: false, values: values?.filter { !$0.isNull })
    }

    /// This type, also absent.
    public var optional: ExpressionType {
        var copy = self
        copy.mayBeAbsent = true
        return copy
    }

    /// In words for messages: "a string", "a number or null", "a boolean, or absent".
    public var description: String {
        if isAny { return mayBeAbsent ? "a value of any type, or absent" : "a value of any type" }
        let order: [(Kinds, String)] = [
            (.string, "a string"), (.number, "a number"), (.boolean, "a boolean"), (.object, "an object"),
            (.array, "a list"), (.null, "null"),
        ]
        let words = order.filter { kinds.contains($0.0) }.map(\.1)
        if words.isEmpty { return mayBeAbsent ? "always absent" : "no value" }
        let text = words.joined(separator: " or ")
        return mayBeAbsent ? text + ", or absent" : text
    }
}

// MARK: From JSON Schema

extension ExpressionType {
    /// The type of a value described by a schema shape: its `type` keywords (an integer is a
    /// number), `const` and `enum`, nullable unions (`type: [string, "null"]`, an `anyOf`
    /// branch `{type: "null"}`, OpenAPI's `nullable: true`). A schema that does not constrain
    /// the type gives `any`. Whether the value may be absent is the path's business: see
    /// `ExpressionType.of(_:in:)`.
    public init(shape: SchemaShape) {
        var kinds: Kinds = []
        var values: [JSONValue]? = []
        for schema in shape.schemas {
            guard !SchemaShape.isUnconstrained(schema), let types = SchemaShape.types(of: schema) else {
                self = .any
                return
            }
            for type in types {
                switch type {
                case "null": kinds.insert(.null)
                case "boolean": kinds.insert(.boolean)
                case "integer", "number": kinds.insert(.number)
                case "string": kinds.insert(.string)
                case "array": kinds.insert(.array)
                case "object": kinds.insert(.object)
                default: break
                }
            }
            let object = schema.objectValue
            if object?["nullable"]?.boolValue == true { kinds.insert(.null) }
            if let constant = object?["const"] {
                values?.append(constant)
            } else if let members = object?["enum"]?.arrayValue {
                values?.append(contentsOf: members)
            } else {
                values = nil
            }
        }
        if kinds.isEmpty {
            self = .any
            return
        }
        if let known = values, kinds.contains(.null) {
            values = known.contains(.null) ? known : known + [.null]
        }
        self.init(kinds, values: values.map(Self.unique))
    }

    /// The type of `path` inside a value of `shape`, or nil when the path does not fit the
    /// schema (the compiler reports those). A property that some object schema on the way
    /// does not list in `required`, or an index that `minItems` does not guarantee, makes the
    /// result possibly absent.
    public static func of(_ path: [PathSegment], in shape: SchemaShape) -> ExpressionType? {
        guard case .reached(let end, let absent) = shape.walk(path) else { return nil }
        return ExpressionType(shape: end, mayBeAbsent: absent)
    }

    /// The type of a value of `shape` that may be absent.
    init(shape: SchemaShape, mayBeAbsent: Bool) {
        self.init(shape: shape)
        self.mayBeAbsent = mayBeAbsent
    }

    private static func unique(_ values: [JSONValue]) -> [JSONValue] {
        var seen = Set<JSONValue>()
        return values.filter { seen.insert($0).inserted }
    }
}
