/// Evaluates a condition at run time, against the values the stages produced.
///
/// The evaluator never fails: lint has checked the types, and a value that still has an
/// unexpected type at run time (an unconstrained schema) gives a defined answer:
/// - an absent reference (a skipped stage, a missing property, an index past the end) is
///   null, and `??` replaces null;
/// - `==`/`!=` are JSON equality: numbers by exact value (`1.0 == 1`), strings by Unicode
///   scalars, objects regardless of key order; values of different types are not equal;
/// - `<`, `<=`, `>`, `>=` compare two numbers exactly or two strings by Unicode scalar
///   values; with any other operands they are false;
/// - `and`, `or`, `not` take only `true` as true (anything else is false) and short-circuit;
/// - `len` counts the Unicode scalars of a string (as JSON Schema's `maxLength` does), the
///   items of a list or the members of an object; null is 0; anything else gives null;
/// - an unknown function gives null.
public enum ExpressionEvaluator {
    /// The value of `e`; `value` gives the value of a reference, nil when it is absent.
    public static func evaluate(_ e: Expression, value: (TemplateReference) -> JSONValue?) -> JSONValue {
        switch e {
        case .literal(let literal, _):
            return literal
        case .reference(let reference):
            return value(reference) ?? .null
        case .not(let operand, _):
            return .bool(!isTrue(evaluate(operand, value: value)))
        case .binary(let op, let lhs, let rhs, _, _):
            let left = evaluate(lhs, value: value)
            switch op {
            case .and: return .bool(isTrue(left) && isTrue(evaluate(rhs, value: value)))
            case .or: return .bool(isTrue(left) || isTrue(evaluate(rhs, value: value)))
            case .equal: return .bool(left == evaluate(rhs, value: value))
            case .notEqual: return .bool(left != evaluate(rhs, value: value))
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                guard let order = compare(left, evaluate(rhs, value: value)) else { return .bool(false) }
                return switch op {
                case .less: .bool(order < 0)
                case .lessOrEqual: .bool(order <= 0)
                case .greater: .bool(order > 0)
                default: .bool(order >= 0)
                }
            }
        case .call(let name, let arguments, _):
            guard name.value == "len", arguments.count == 1 else { return .null }
            switch evaluate(arguments[0], value: value) {
            case .string(let string): return .number(JSONNumber(string.unicodeScalars.count))
            case .array(let items): return .number(JSONNumber(items.count))
            case .object(let members): return .number(JSONNumber(members.count))
            case .null: return .number(JSONNumber(0))
            default: return .null
            }
        case .defaulted(let lhs, let rhs, _, _):
            let left = evaluate(lhs, value: value)
            return left.isNull ? evaluate(rhs, value: value) : left
        }
    }

    /// Whether a condition holds: its value is `true`.
    public static func holds(_ e: Expression, value: (TemplateReference) -> JSONValue?) -> Bool {
        isTrue(evaluate(e, value: value))
    }

    static func isTrue(_ value: JSONValue) -> Bool { value == .bool(true) }

    /// -1, 0 or 1 for two numbers or two strings; nil for anything else.
    static func compare(_ a: JSONValue, _ b: JSONValue) -> Int? {
        switch (a, b) {
        case (.number(let x), .number(let y)):
            return x == y ? 0 : (x < y ? -1 : 1)
        case (.string(let x), .string(let y)):
            var i = x.unicodeScalars.makeIterator(), j = y.unicodeScalars.makeIterator()
            while true {
                switch (i.next(), j.next()) {
                case (nil, nil): return 0
                case (nil, _): return -1
                case (_, nil): return 1
                case (let p?, let q?) where p != q: return p.value < q.value ? -1 : 1
                default: continue
                }
            }
        default:
            return nil
        }
    }
}
