/// Where a reference's path leads in a schema shape. The compiler walks each reference once
/// (templates, `for_each` lists, conditions alike) and keeps the result in the resolved
/// pipeline: the rules report where a walk broke, conditions take their types from where it
/// ended, and a `for_each` list its `maxItems`.
enum PathWalk: Sendable {
    /// The path fits: the shape at its end, and whether the value may be absent there (a
    /// property some object schema on the way does not require, or an index `minItems` does
    /// not guarantee).
    case reached(SchemaShape, mayBeAbsent: Bool)
    /// Segment number `segment` does not fit `shape`, the shape of the path before it.
    case broken(segment: Int, error: SchemaShape.StepError, shape: SchemaShape)

    /// The shape at the end of the path, when it fits.
    var shape: SchemaShape? {
        if case .reached(let shape, _) = self { return shape }
        return nil
    }
}

extension SchemaShape {
    /// Walks `path` from this shape, step by step (`field`, `index`).
    func walk(_ path: [PathSegment]) -> PathWalk {
        var current = self
        var absent = false
        for (number, segment) in path.enumerated() {
            let step: Result<SchemaShape, StepError>
            switch segment.kind {
            case .field(let name):
                if current.mayLack(name) { absent = true }
                step = current.field(name)
            case .index(let position):
                if current.mayLack(index: position) { absent = true }
                step = current.index(position)
            }
            switch step {
            case .success(let next): current = next
            case .failure(let error): return .broken(segment: number, error: error, shape: current)
            }
        }
        return .reached(current, mayBeAbsent: absent)
    }

    /// True when an object of this shape may lack the property `name`: some schema that
    /// may be an object does not list it in `required`. An unconstrained schema may lack it.
    public func mayLack(_ name: String) -> Bool {
        schemas.contains { schema in
            if SchemaShape.isUnconstrained(schema) { return true }
            guard case .object(let object) = schema else { return false }
            if let types = SchemaShape.types(of: schema), !types.contains("object") { return false }
            let required = object["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return !required.contains(name)
        }
    }

    /// True when an array of this shape may have no item at `index`: `minItems` does not
    /// guarantee it.
    public func mayLack(index: Int) -> Bool {
        schemas.contains { schema in
            if SchemaShape.isUnconstrained(schema) { return true }
            guard case .object(let object) = schema else { return false }
            if let types = SchemaShape.types(of: schema), !types.contains("array") { return false }
            let minimum = object["minItems"]?.numberValue?.intValue ?? 0
            return index >= minimum
        }
    }
}
