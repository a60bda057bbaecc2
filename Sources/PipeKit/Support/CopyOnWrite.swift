/// A value kept on the heap, shared by copies until one of them changes it: a copy of a
/// large struct that holds one is a retain, not a copy of every field (and a retain of each
/// of its references). `StageSpec` and `CompiledStage` keep their fields in one.
struct CopyOnWrite<Value> {
    private final class Box {
        var value: Value

        init(_ value: Value) {
            self.value = value
        }
    }

    private var box: Box

    init(_ value: Value) {
        box = Box(value)
    }

    var value: Value {
        _read { yield box.value }
        _modify {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.value) }
            yield &box.value
        }
    }
}

/// A box is changed only while no other copy shares it.
extension CopyOnWrite: @unchecked Sendable where Value: Sendable {}
