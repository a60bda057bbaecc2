/// Compiles the keywords of one schema object, by vocabulary.
extension SchemaCompiler {
    mutating func compileKeywords(_ object: JSONObject, at location: SchemaLocation, scope: CompileScope, into list: inout KeywordList) throws(SchemaError) {
        let legacy = scope.draft.isLegacy
        let vocabularies = scope.vocabularies
        if legacy, let reference = object["$ref"] {
            // Draft-07: `$ref` replaces every sibling keyword.
            try compileCore(["$ref": reference], at: location, scope: scope, into: &list)
            return
        }
        try compileCore(object, at: location, scope: scope, into: &list)
        if vocabularies.contains(.validation) {
            try compileValidation(object, at: location, draft: scope.draft, into: &list)
        }
        if vocabularies.contains(.applicator) {
            try compileApplicators(object, at: location, scope: scope, into: &list)
        }
        if assertFormat || vocabularies.contains(.formatAssertion), let name = object["format"]?.stringValue,
           let check = FormatAssertions.checker(for: name) {
            list.assertions.append(CompiledKeyword(name: "format", check: .format(name: name, check: check)))
        }
        if scope.draft != .draft7, vocabularies.contains(.unevaluated) {
            if object["unevaluatedProperties"] != nil {
                let node = try compileChild(location, "unevaluatedProperties", scope: scope)
                let isFalse = isFalseSchema(location, "unevaluatedProperties")
                list.unevaluated.append(CompiledKeyword(name: "unevaluatedProperties", check: .unevaluatedProperties(node: node, isFalse: isFalse)))
                output.tracksAnnotations = true
            }
            if object["unevaluatedItems"] != nil {
                let node = try compileChild(location, "unevaluatedItems", scope: scope)
                let isFalse = isFalseSchema(location, "unevaluatedItems")
                list.unevaluated.append(CompiledKeyword(name: "unevaluatedItems", check: .unevaluatedItems(node: node, isFalse: isFalse)))
                output.tracksAnnotations = true
            }
        }
    }

    // MARK: - Core: $ref, $dynamicRef

    private mutating func compileCore(_ object: JSONObject, at location: SchemaLocation, scope: CompileScope, into list: inout KeywordList) throws(SchemaError) {
        if let reference = object["$ref"] {
            guard let text = reference.stringValue else { throw invalid("$ref", location, "must be a string, got \(reference.typeName)") }
            let (node, _) = try compileReference(text, scope: scope, keywordLocation: location.pointerText + "/$ref")
            list.applicators.append(CompiledKeyword(name: "$ref", check: .ref(node)))
        }
        if scope.draft == .draft2020_12, let reference = object["$dynamicRef"] {
            guard let text = reference.stringValue else { throw invalid("$dynamicRef", location, "must be a string, got \(reference.typeName)") }
            let (node, target) = try compileReference(text, scope: scope, keywordLocation: location.pointerText + "/$dynamicRef")
            // Dynamic only when the fragment is an anchor name that the initial target declares as `$dynamicAnchor`.
            let fragment = URIReference.split(text).fragment
            var anchor: String?
            if !fragment.isEmpty, !fragment.hasPrefix("/"), documents.value(at: target)?["$dynamicAnchor"]?.stringValue == fragment {
                anchor = fragment
            }
            list.applicators.append(CompiledKeyword(name: "$dynamicRef", check: .dynamicRef(initial: node, anchor: anchor)))
        }
        if scope.draft == .draft2019_09, object["$recursiveRef"] != nil {
            // 2019-09 is supported for cross-draft references only: treat `$recursiveRef` as a plain `$ref: "#"`.
            let (node, _) = try compileReference("#", scope: scope, keywordLocation: location.pointerText + "/$recursiveRef")
            list.applicators.append(CompiledKeyword(name: "$recursiveRef", check: .ref(node)))
        }
    }

    // MARK: - Validation vocabulary

    private mutating func compileValidation(_ object: JSONObject, at location: SchemaLocation, draft: JSONSchemaDraft, into list: inout KeywordList) throws(SchemaError) {
        func add(_ name: String, _ keyword: Keyword) {
            list.assertions.append(CompiledKeyword(name: name, check: keyword))
        }
        if let value = object["type"] {
            var types: JSONTypeSet = []
            var listed: [String] = []
            let names: [JSONValue] = value.arrayValue ?? [value]
            for name in names {
                guard let text = name.stringValue, let type = JSONTypeSet(name: text) else {
                    throw invalid("type", location, "expected a type name (null, boolean, integer, number, string, array, object), got \(name.serialized())")
                }
                types.insert(type)
                listed.append(text)
            }
            let expected = listed.isEmpty ? "nothing" : listed.alternatives
            add("type", .type(types, expected: expected))
        }
        if let value = object["enum"] {
            guard let values = value.arrayValue else { throw invalid("enum", location, "must be an array") }
            add("enum", .enumeration(values))
        }
        if let value = object["const"] { add("const", .const(value)) }
        for name in ["multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum"] {
            guard let value = object[name] else { continue }
            if case .bool = value, name.hasPrefix("exclusive") { continue }  // draft-04 form: ignored
            guard let number = value.numberValue else { throw invalid(name, location, "must be a number, got \(value.typeName)") }
            switch name {
            case "multipleOf":
                guard number > JSONNumber(0) else { throw invalid(name, location, "must be greater than 0") }
                add(name, .multipleOf(number))
            case "maximum": add(name, .maximum(number))
            case "exclusiveMaximum": add(name, .exclusiveMaximum(number))
            case "minimum": add(name, .minimum(number))
            default: add(name, .exclusiveMinimum(number))
            }
        }
        if let n = try count("maxLength", object, location) { add("maxLength", .maxLength(n)) }
        if let n = try count("minLength", object, location) { add("minLength", .minLength(n)) }
        if let value = object["pattern"] {
            guard let pattern = value.stringValue else { throw invalid("pattern", location, "must be a string") }
            add("pattern", .pattern(try regex(pattern, location: location.pointerText + "/pattern")))
        }
        if let n = try count("maxItems", object, location) { add("maxItems", .maxItems(n)) }
        if let n = try count("minItems", object, location) { add("minItems", .minItems(n)) }
        if object["uniqueItems"] == .bool(true) { add("uniqueItems", .uniqueItems) }
        if let n = try count("maxProperties", object, location) { add("maxProperties", .maxProperties(n)) }
        if let n = try count("minProperties", object, location) { add("minProperties", .minProperties(n)) }
        if let value = object["required"] {
            guard let names = value.arrayValue?.compactMap(\.stringValue), names.count == value.arrayValue?.count else {
                throw invalid("required", location, "must be an array of property names")
            }
            if !names.isEmpty { add("required", .required(names)) }
        }
        if draft != .draft7, case .object(let members)? = object["dependentRequired"] {
            var entries: [(String, [String])] = []
            for (name, value) in members {
                guard let names = value.arrayValue?.compactMap(\.stringValue), names.count == value.arrayValue?.count else {
                    throw invalid("dependentRequired", location, "\"\(name)\" must map to an array of property names")
                }
                entries.append((name, names))
            }
            add("dependentRequired", .dependentRequired(entries))
        }
    }

    /// A non-negative integer keyword value (`2.0` counts as `2`).
    private func count(_ name: String, _ object: JSONObject, _ location: SchemaLocation) throws(SchemaError) -> Int? {
        guard let value = object[name] else { return nil }
        guard let number = value.numberValue, number.isInteger, !number.isNegative else {
            throw invalid(name, location, "must be a non-negative integer, got \(value.serialized())")
        }
        return number.intValue ?? Int.max
    }

    // MARK: - Applicator vocabulary

    private mutating func compileApplicators(_ object: JSONObject, at location: SchemaLocation, scope: CompileScope, into list: inout KeywordList) throws(SchemaError) {
        func add(_ name: String, _ keyword: Keyword) {
            list.applicators.append(CompiledKeyword(name: name, check: keyword))
        }
        let legacyItems = scope.draft != .draft2020_12

        for name in ["allOf", "anyOf", "oneOf"] {
            guard let value = object[name] else { continue }
            guard let elements = value.arrayValue, !elements.isEmpty else { throw invalid(name, location, "must be a non-empty array of schemas") }
            var nodes: [Int] = []
            for i in elements.indices { nodes.append(try compileChild(location, name, String(i), scope: scope)) }
            add(name, name == "allOf" ? .allOf(nodes) : name == "anyOf" ? .anyOf(nodes) : .oneOf(nodes))
        }
        if object["not"] != nil { add("not", .not(try compileChild(location, "not", scope: scope))) }
        if object["if"] != nil {
            let condition = try compileChild(location, "if", scope: scope)
            let then = object["then"] != nil ? try compileChild(location, "then", scope: scope) : nil
            let otherwise = object["else"] != nil ? try compileChild(location, "else", scope: scope) : nil
            // Kept even without then/else: its annotations count for unevaluated*.
            add("if", .conditional(if: condition, then: then, else: otherwise))
        }

        // Objects
        var known: Set<String> = []
        var patterns: [ECMARegex] = []
        if let value = object["properties"] {
            guard case .object(let members) = value else { throw invalid("properties", location, "must be an object of schemas") }
            var names: [String] = [], nodes: [Int] = [], lookup: [String: Int] = [:]
            for (name, _) in members {
                let node = try compileChild(location, "properties", name, scope: scope)
                lookup[name] = names.count
                names.append(name)
                nodes.append(node)
                known.insert(name)
            }
            add("properties", .properties(names: names, nodes: nodes, lookup: lookup))
        }
        if let value = object["patternProperties"] {
            guard case .object(let members) = value else { throw invalid("patternProperties", location, "must be an object of schemas") }
            var entries: [(ECMARegex, Int)] = []
            for (pattern, _) in members {
                let regex = try regex(pattern, location: location.pointerText + "/patternProperties")
                entries.append((regex, try compileChild(location, "patternProperties", pattern, scope: scope)))
                patterns.append(regex)
            }
            add("patternProperties", .patternProperties(entries))
        }
        if object["additionalProperties"] != nil {
            let node = try compileChild(location, "additionalProperties", scope: scope)
            add("additionalProperties", .additionalProperties(node: node, isFalse: isFalseSchema(location, "additionalProperties"), known: known, patterns: patterns))
        }
        if object["propertyNames"] != nil {
            add("propertyNames", .propertyNames(try compileChild(location, "propertyNames", scope: scope)))
        }
        if scope.draft != .draft7, case .object(let members)? = object["dependentSchemas"] {
            var entries: [(String, Int)] = []
            for (name, _) in members { entries.append((name, try compileChild(location, "dependentSchemas", name, scope: scope))) }
            add("dependentSchemas", .dependentSchemas(entries))
        }
        if case .object(let members)? = object["dependencies"] {  // draft-07; accepted later for compatibility
            var schemas: [(String, Int)] = []
            var required: [(String, [String])] = []
            for (name, value) in members {
                if let names = value.arrayValue {
                    required.append((name, names.compactMap(\.stringValue)))
                } else {
                    schemas.append((name, try compileChild(location, "dependencies", name, scope: scope)))
                }
            }
            if !required.isEmpty { add("dependencies", .dependentRequired(required)) }
            if !schemas.isEmpty { add("dependencies", .dependentSchemas(schemas)) }
        }

        // Arrays
        var prefixCount = 0
        if !legacyItems, let value = object["prefixItems"] {
            guard let elements = value.arrayValue, !elements.isEmpty else { throw invalid("prefixItems", location, "must be a non-empty array of schemas") }
            var nodes: [Int] = []
            for i in elements.indices { nodes.append(try compileChild(location, "prefixItems", String(i), scope: scope)) }
            prefixCount = nodes.count
            add("prefixItems", .prefixItems(nodes))
        }
        if let value = object["items"] {
            if legacyItems, let elements = value.arrayValue {
                var nodes: [Int] = []
                for i in elements.indices { nodes.append(try compileChild(location, "items", String(i), scope: scope)) }
                add("items", .prefixItems(nodes))
                if object["additionalItems"] != nil {
                    let node = try compileChild(location, "additionalItems", scope: scope)
                    add("additionalItems", .items(node: node, from: nodes.count, isFalse: isFalseSchema(location, "additionalItems")))
                }
            } else {
                let node = try compileChild(location, "items", scope: scope)
                add("items", .items(node: node, from: prefixCount, isFalse: isFalseSchema(location, "items")))
            }
        }
        if object["contains"] != nil {
            let node = try compileChild(location, "contains", scope: scope)
            var minimum = 1
            var maximum: Int?
            if scope.draft != .draft7 {
                minimum = try count("minContains", object, location) ?? 1
                maximum = try count("maxContains", object, location)
            }
            add("contains", .contains(node: node, min: minimum, max: maximum))
        }
    }

    private func invalid(_ keyword: String, _ location: SchemaLocation, _ reason: String) -> SchemaError {
        .invalidKeyword(keyword: keyword, location: location.pointerText + "/" + JSONPointer.escape(keyword), reason: reason)
    }
}
