extension SpecDecoder {
    /// `on_error:` of a stage: `fail`, `skip`, or `{ default: VALUE }` (any JSON value; the
    /// `on-error-default` rule checks it against the stage's output schema).
    mutating func onError(_ node: YAMLNode, stage: String) -> OnErrorSpec? {
        let hint = "write `on_error: fail` (the default), `on_error: skip` or `on_error: { default: VALUE }`"
        if let pairs = node.mapping {
            checkKeys(pairs, allowed: ["default"], in: "`on_error` of stage `\(stage)`")
            guard let value = node["default"] else {
                report(.missingKey, at: node.span, "`on_error` of stage `\(stage)` has no `default`", hint: hint)
                return nil
            }
            return .default(value.json, value)
        }
        guard let text = string(node, key: "on_error") else { return nil }
        switch text.value {
        case "fail": return .fail(text.span)
        case "skip": return .skip(text.span)
        default:
            report(.invalidValue, at: text.span, "`on_error` must be `fail`, `skip` or `{ default: VALUE }`, found `\(text.value)`",
                hint: hint)
            return nil
        }
    }
}
