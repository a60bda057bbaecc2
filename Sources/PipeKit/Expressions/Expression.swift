/// A parsed condition, as written after `when:` on a stage or `until:` on a loop:
/// `critic.score >= 7 and not critic.approved`.
///
/// Every node keeps where it was written. `span` covers the node's whole text, including
/// any parentheses around its operands; operators also keep their own span, so a type
/// error points at the operator's column. See `ExpressionParser` for the grammar.
public indirect enum Expression: Sendable, Hashable {
    /// `7`, `-0.5`, `"approved"`, `'it''s'`, `true`, `false`, `null`.
    case literal(JSONValue, span: Span)
    /// `critic.score`, `planner.questions[0]`: the same paths as `{{ ... }}` in templates.
    case reference(TemplateReference)
    /// `not operand`; `span` runs from `not` to the end of the operand.
    case not(Expression, span: Span)
    /// `lhs op rhs` for `and`, `or` and the comparisons.
    case binary(BinaryOperator, Expression, Expression, operatorSpan: Span, span: Span)
    /// `len(x)`: a function by name and its arguments.
    case call(name: Located<String>, arguments: [Expression], span: Span)
    /// `value ?? fallback`: the fallback when the value is null or absent.
    case defaulted(Expression, Expression, operatorSpan: Span, span: Span)

    /// Where the whole expression was written.
    public var span: Span {
        switch self {
        case .literal(_, let span), .not(_, let span), .call(_, _, let span),
            .binary(_, _, _, _, let span), .defaulted(_, _, _, let span):
            span
        case .reference(let reference): reference.span
        }
    }

    /// Every reference in the expression, in source order (the compiler adds a DAG edge
    /// from each root that names a stage).
    public var references: [TemplateReference] {
        var found: [TemplateReference] = []
        collectReferences(into: &found)
        return found
    }

    private func collectReferences(into found: inout [TemplateReference]) {
        switch self {
        case .literal: break
        case .reference(let reference): found.append(reference)
        case .not(let operand, _): operand.collectReferences(into: &found)
        case .binary(_, let lhs, let rhs, _, _), .defaulted(let lhs, let rhs, _, _):
            lhs.collectReferences(into: &found)
            rhs.collectReferences(into: &found)
        case .call(_, let arguments, _):
            for argument in arguments { argument.collectReferences(into: &found) }
        }
    }
}

/// The two-operand operators, from the loosest to the tightest binding:
/// `or`, `and`, then the comparisons (`??` is its own node, `Expression.defaulted`).
public enum BinaryOperator: String, Sendable, Hashable, CaseIterable {
    case or
    case and
    case equal = "=="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="

    /// `==`, `!=`, `<`, `<=`, `>`, `>=`.
    public var isComparison: Bool { self != .and && self != .or }

    /// Binding strength: a higher number binds tighter.
    var precedence: Int {
        switch self {
        case .or: 1
        case .and: 2
        default: 4  // `not` is 3, `??` is 5
        }
    }
}

extension Expression: CustomStringConvertible {
    /// The expression in its normal spelling, with parentheses only where needed:
    /// `critic.score ?? 0 >= 7 and not (a or b)`. Used in messages.
    public var description: String { render(context: 0) }

    /// 1 `or`, 2 `and`, 3 `not`, 4 comparison, 5 `??`, 6 primary.
    private var precedence: Int {
        switch self {
        case .literal, .reference, .call: 6
        case .not: 3
        case .binary(let op, _, _, _, _): op.precedence
        case .defaulted: 5
        }
    }

    private func render(context: Int) -> String {
        let text: String
        switch self {
        case .literal(let value, _):
            if case .string(let string) = value {
                text = string.jsonQuoted
            } else {
                text = value.description
            }
        case .reference(let reference): text = reference.description
        case .not(let operand, _): text = "not " + operand.render(context: 3)
        case .binary(let op, let lhs, let rhs, _, _):
            // `and`/`or` are left-associative; comparisons do not chain.
            let p = op.precedence
            text = "\(lhs.render(context: op.isComparison ? p + 1 : p)) \(op.rawValue) \(rhs.render(context: p + 1))"
        case .call(let name, let arguments, _):
            text = name.value + "(" + arguments.map { $0.render(context: 0) }.joined(separator: ", ") + ")"
        case .defaulted(let lhs, let rhs, _, _):
            // Right-associative: `a ?? b ?? c` is `a ?? (b ?? c)`.
            text = "\(lhs.render(context: 6)) ?? \(rhs.render(context: 5))"
        }
        return precedence < context ? "(\(text))" : text
    }
}
