/// What a schema evaluated in one instance, for `unevaluatedProperties` and `unevaluatedItems`.
/// Collected only when the schema uses those keywords.
struct Annotations {
    var properties: Set<String> = []
    var allProperties = false
    /// Items `0..<itemPrefix` were evaluated.
    var itemPrefix = 0
    var allItems = false
    /// Individual items evaluated (by `contains`).
    var items: Set<Int> = []

    mutating func merge(_ other: Annotations) {
        if other.allProperties { allProperties = true } else if !other.properties.isEmpty { properties.formUnion(other.properties) }
        if other.allItems { allItems = true }
        itemPrefix = max(itemPrefix, other.itemPrefix)
        if !other.items.isEmpty { items.formUnion(other.items) }
    }

    func isEvaluated(property name: String) -> Bool { allProperties || properties.contains(name) }
    func isEvaluated(item index: Int) -> Bool { allItems || index < itemPrefix || items.contains(index) }
}
