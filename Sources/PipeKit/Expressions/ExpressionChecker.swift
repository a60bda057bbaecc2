/// Type-checks a condition against the schemas of what it references (rule
/// `expression-type`), the way `pipe lint` checks templates.
///
/// The rules:
/// - `and`, `or` and `not` take booleans;
/// - `<`, `<=`, `>`, `>=` take two numbers or two strings;
/// - `==` and `!=` take two values that can be equal: a string and a number never are
///   (the error points at the operator), a value that is never null is never `null`, and a
///   value with a schema `enum`/`const` is never a literal outside it;
/// - `len(x)` takes one string, list or object (null or absent count as 0) and is a number;
/// - `a ?? b` is `a` without null and absent, or `b`;
/// - an operand that may be null or absent must be given a fallback with `??` before
///   `and`/`or`/`not` or an ordering comparison uses it (`==`/`!=` take it as null);
/// - a value whose type is unknown (`any`: no schema, or one that does not say) passes
///   every rule.
public struct ExpressionChecker {
    /// The functions a condition can call.
    public static let functions = ["len"]

    let resolve: (TemplateReference) -> ExpressionType?

    /// - Parameter resolve: the type of a reference, or nil when the caller has already
    ///   reported it (unknown stage or field); such a reference is then taken as `any`.
    public init(resolve: @escaping (TemplateReference) -> ExpressionType?) {
        self.resolve = resolve
    }

    /// Checks that a whole condition is true or false. `key` names the YAML key it was
    /// written under (`when`, `until`) for the message. True when no problem was found.
    @discardableResult
    public func checkCondition(_ e: Expression, key: String? = nil, diagnostics: inout DiagnosticSink) -> Bool {
        let before = diagnostics.diagnostics.count
        let type = check(e, diagnostics: &diagnostics)
        let subject = key.map { "`\($0)` must be a condition (true or false)" } ?? "a condition must be true or false"
        if !type.isAny {
            if !type.presentKinds.isSubset(of: .boolean) || type.presentKinds.isEmpty {
                diagnostics.report(
                    .expressionType, at: e.span, "\(subject), but `\(e)` is \(type)", hint: Self.howToTest(e, type))
            } else if type.isOptional {
                diagnostics.report(
                    .expressionType, at: e.span, "\(subject), but `\(e)` may be \(Self.missing(type))",
                    hint: "say what to use then, e.g. `\(Self.defaulted(e, "false"))`")
            }
        }
        return diagnostics.diagnostics.count == before
    }

    /// The type of `e`, reporting every rule it breaks. After an error the result is what
    /// the operator produces anyway (a comparison is a boolean), so one mistake is one error.
    public func check(_ e: Expression, diagnostics: inout DiagnosticSink) -> ExpressionType {
        switch e {
        case .literal(let value, _):
            return ExpressionType(of: value)
        case .reference(let reference):
            return resolve(reference) ?? .any
        case .not(let operand, _):
            let type = check(operand, diagnostics: &diagnostics)
            requireBoolean(type, of: operand, operator: "not", diagnostics: &diagnostics)
            return .boolean
        case .binary(let op, let lhs, let rhs, let operatorSpan, _):
            let left = check(lhs, diagnostics: &diagnostics)
            let right = check(rhs, diagnostics: &diagnostics)
            switch op {
            case .and, .or:
                requireBoolean(left, of: lhs, operator: op.rawValue, diagnostics: &diagnostics)
                requireBoolean(right, of: rhs, operator: op.rawValue, diagnostics: &diagnostics)
            case .equal, .notEqual:
                checkEquality(op, lhs, left, rhs, right, at: operatorSpan, diagnostics: &diagnostics)
            case .less, .lessOrEqual, .greater, .greaterOrEqual:
                checkOrdering(op, lhs, left, rhs, right, at: operatorSpan, diagnostics: &diagnostics)
            }
            return .boolean
        case .call(let name, let arguments, let span):
            let types = arguments.map { check($0, diagnostics: &diagnostics) }
            guard name.value == "len" else {
                // `length`, `lenght`: a longer spelling of a function is also a likely slip.
                let near = Suggestions.closest(to: name.value, in: Self.functions)
                    ?? Self.functions.first { name.value.lowercased().hasPrefix($0) }
                diagnostics.report(
                    .expressionType, at: name.span, "unknown function `\(name.value)`",
                    hint: near.map { "did you mean `\($0)`?" }
                        ?? Suggestions.hint(for: name.value, in: Self.functions, kind: "the functions are"))
                return .any
            }
            guard arguments.count == 1 else {
                diagnostics.report(
                    .expressionType, at: span,
                    "`len` takes one value, but it is given \(arguments.count == 0 ? "none" : "\(arguments.count)")",
                    hint: "for example `len(planner.questions)`")
                return .number
            }
            let type = types[0]
            if !type.isAny, !type.presentKinds.isSubset(of: [.string, .array, .object]) {
                diagnostics.report(
                    .expressionType, at: arguments[0].span,
                    "`len` counts the characters of a string or the items of a list or an object, "
                        + "but `\(arguments[0])` is \(type)")
            }
            return .number
        case .defaulted(let lhs, let rhs, _, _):
            let left = check(lhs, diagnostics: &diagnostics)
            let right = check(rhs, diagnostics: &diagnostics)
            return left.withoutNull.union(right)
        }
    }

    // MARK: Rules

    private func requireBoolean(
        _ type: ExpressionType, of e: Expression, operator op: String, diagnostics: inout DiagnosticSink
    ) {
        guard !type.isAny else { return }
        if !type.presentKinds.isSubset(of: .boolean) || type.presentKinds.isEmpty {
            diagnostics.report(
                .expressionType, at: e.span, "`\(op)` takes conditions (true or false), but `\(e)` is \(type)",
                hint: Self.howToTest(e, type))
        } else if type.isOptional {
            diagnostics.report(
                .expressionType, at: e.span,
                "`\(op)` takes conditions (true or false), but `\(e)` may be \(Self.missing(type))",
                hint: "say what to use then, e.g. `\(Self.defaulted(e, "false"))`")
        }
    }

    private func checkEquality(
        _ op: BinaryOperator, _ lhs: Expression, _ left: ExpressionType, _ rhs: Expression, _ right: ExpressionType,
        at operatorSpan: Span, diagnostics: inout DiagnosticSink
    ) {
        guard !left.isAny, !right.isAny else { return }
        let always = op == .equal ? "always false" : "always true"
        let (l, r) = (left.presentKinds, right.presentKinds)
        // Comparing with null: fine when the other side may be missing.
        if l.isEmpty || r.isEmpty {
            let (value, valueType) = l.isEmpty ? (rhs, right) : (lhs, left)
            if !(l.isEmpty && r.isEmpty), !valueType.isOptional {
                diagnostics.report(
                    .expressionType, at: operatorSpan,
                    "comparing \(valueType) with null: `\(value)` is never null or absent, so `\(op.rawValue)` is \(always)")
            }
            return
        }
        if l.isDisjoint(with: r) {
            diagnostics.report(
                .expressionType, at: operatorSpan,
                "comparing \(left.withoutNull) with \(right.withoutNull): `\(op.rawValue)` is \(always)",
                hint: Self.conversionHint(lhs, left, rhs, right))
            return
        }
        // A literal that the other side's `enum`/`const` never takes.
        for (literal, other, otherType) in [(rhs, lhs, left), (lhs, rhs, right)] {
            guard case .literal(let value, let span) = literal, !value.isNull, case .reference = other,
                let possible = otherType.values, !possible.contains(value)
            else { continue }
            let shown = possible.map { Self.show($0) }
            let strings = possible.compactMap(\.stringValue)
            let hint = value.stringValue.flatMap { Suggestions.closest(to: $0, in: strings) }
                .map { "did you mean `\(Self.show(.string($0)))`?" }
            diagnostics.report(
                .expressionType, at: span,
                "`\(other)` is never \(Self.show(value)): its schema allows only \(shown.joined(separator: ", "))",
                hint: hint)
            return
        }
    }

    private func checkOrdering(
        _ op: BinaryOperator, _ lhs: Expression, _ left: ExpressionType, _ rhs: Expression, _ right: ExpressionType,
        at operatorSpan: Span, diagnostics: inout DiagnosticSink
    ) {
        let orderable: ExpressionType.Kinds = [.number, .string]
        var operandsOK = true
        for (e, type) in [(lhs, left), (rhs, right)] where !type.isAny {
            if type.presentKinds.isEmpty || !type.presentKinds.isSubset(of: orderable) {
                let hint = type.presentKinds.isDisjoint(with: [.array, .object])
                    ? nil : "compare its length, e.g. `len(\(e)) \(op.rawValue) 3`"
                diagnostics.report(
                    .expressionType, at: e.span, "`\(op.rawValue)` compares numbers or strings, but `\(e)` is \(type)",
                    hint: hint)
                operandsOK = false
            }
        }
        guard operandsOK else { return }
        if !left.isAny, !right.isAny, left.presentKinds.isDisjoint(with: right.presentKinds) {
            diagnostics.report(
                .expressionType, at: operatorSpan,
                "comparing \(left.withoutNull) with \(right.withoutNull) with `\(op.rawValue)`",
                hint: Self.conversionHint(lhs, left, rhs, right) ?? "`\(op.rawValue)` compares two numbers or two strings")
            return
        }
        for (e, type) in [(lhs, left), (rhs, right)] where !type.isAny && type.isOptional {
            let fallback = type.presentKinds.contains(.number) ? "0" : "\"\""
            diagnostics.report(
                .expressionType, at: e.span, "`\(op.rawValue)` needs a value, but `\(e)` may be \(Self.missing(type))",
                hint: "say what to use then, e.g. `\(Self.defaulted(e, fallback)) \(op.rawValue) ...`")
        }
    }

    // MARK: Words

    /// "null", "absent" or "null or absent".
    static func missing(_ type: ExpressionType) -> String {
        switch (type.kinds.contains(.null), type.mayBeAbsent) {
        case (true, true): "null or absent"
        case (true, false): "null"
        default: "absent"
        }
    }

    /// `e ?? fallback`, with parentheses if `e` needs them.
    static func defaulted(_ e: Expression, _ fallback: String) -> String {
        switch e {
        case .reference, .call, .literal: "\(e) ?? \(fallback)"
        default: "(\(e)) ?? \(fallback)"
        }
    }

    /// A literal as it would be written in a condition.
    static func show(_ value: JSONValue) -> String {
        if case .string(let string) = value { return string.jsonQuoted }
        return value.description
    }

    /// How to turn a value that is not a condition into one.
    static func howToTest(_ e: Expression, _ type: ExpressionType) -> String? {
        let kinds = type.presentKinds
        if kinds.contains(.number) { return "compare it, e.g. `\(e) >= 1`" }
        if kinds.contains(.string) {
            let example = type.values?.first(where: { $0.stringValue != nil }).map(show) ?? "\"yes\""
            return "compare it, e.g. `\(e) == \(example)`"
        }
        if !kinds.isDisjoint(with: [.array, .object]) { return "test its length, e.g. `len(\(e)) > 0`" }
        return nil
    }

    /// A hint for a string literal that holds a number or a boolean, or a number that
    /// should be quoted.
    static func conversionHint(
        _ lhs: Expression, _ left: ExpressionType, _ rhs: Expression, _ right: ExpressionType
    ) -> String? {
        for (literal, other) in [(rhs, left), (lhs, right)] {
            guard case .literal(let value, _) = literal else { continue }
            switch value {
            case .string(let text):
                if other.presentKinds.contains(.number), let number = JSONNumber(text) {
                    return "write the number without quotes: `\(number)`"
                }
                if other.presentKinds.contains(.boolean), text == "true" || text == "false" {
                    return "write `\(text)` without quotes"
                }
            case .number(let number) where other.presentKinds.contains(.string):
                return "quote it to compare with a string: `\"\(number)\"`"
            case .bool(let flag) where other.presentKinds.contains(.string):
                return "quote it to compare with a string: `\"\(flag)\"`"
            default: break
            }
        }
        let subject = [(lhs, left), (rhs, right)].first { if case .reference = $0.0 { true } else { false } }
        return subject.map { "`\($0.0)` is \($0.1.withoutNull)" }
    }
}
