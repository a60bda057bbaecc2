// Rule `invalid-loop`, and `maybe-absent` for the previous iteration: a `loop:` names a stage
// upstream of it, loops do not overlap, `until` is a well-typed condition, and a stage that
// reads the previous iteration says what to use in the first one. The loop's back references
// are the only cycles the compiler accepts: `max_iterations` bounds them.
extension Compilation {
    mutating func checkLoops() {
        let ends = spec.stages.filter { $0.loop != nil }
        guard !ends.isEmpty else { return }
        let endNames = Set(ends.map(\.name.value))
        // The graph without the edges a loop may close: a stage reading itself, or reading a loop's end.
        var forward: [String: Set<String>] = [:]
        for edge in edges where edge.stage != edge.dependency && !endNames.contains(edge.dependency) {
            forward[edge.stage, default: []].insert(edge.dependency)
        }
        for end in ends { forward[end.name.value, default: []].formUnion(end.needs.map(\.value)) }
        var owner: [String: String] = [:]
        for end in ends {
            guard let loop = end.loop else { continue }
            let name = end.name.value
            guard stages[loop.from.value] != nil else {
                diagnostics.report(
                    .invalidLoop, at: loop.from.span, "`from: \(loop.from.value)` is not a stage",
                    hint: Suggestions.hint(for: loop.from.value, in: spec.stages.map(\.name.value), kind: "stages"))
                continue
            }
            let ancestors = closure(of: name, in: forward)
            guard loop.from.value == name || ancestors.contains(loop.from.value) else {
                diagnostics.report(
                    .invalidLoop, at: loop.from.span,
                    "the loop of `\(name)` starts at `\(loop.from.value)`, but `\(name)` does not depend on it",
                    hint: "`from` names the first stage of the loop, one that `\(name)` reads directly or not")
                continue
            }
            // The members: `from`, the stage with `loop:`, and every stage between them.
            var members: Set<String> = [name, loop.from.value]
            for candidate in ancestors where closure(of: candidate, in: forward).contains(loop.from.value) {
                members.insert(candidate)
            }
            var overlapping = false
            for member in members {
                if let other = owner[member] {
                    diagnostics.report(
                        .invalidLoop, at: end.loop!.span, "stage `\(member)` is in the loops of both `\(other)` and `\(name)`",
                        hint: "loops cannot overlap or nest; merge them into one loop")
                    overlapping = true
                }
            }
            if overlapping { continue }
            for member in members { owner[member] = name }
            let ordered = spec.stages.map(\.name.value).filter(members.contains)
            loops.append(CompiledLoop(end: name, from: loop.from.value, members: ordered, until: loop.until, maxIterations: loop.maxIterations.value))
            if let until = loop.until { check(until, key: "until", in: end, skippable: skippable) }
        }
        // The back references: read the previous iteration, so absent in the first one.
        edges.removeAll { edge in
            guard let loop = owner[edge.stage] else { return false }
            return edge.dependency == edge.stage || (edge.dependency == loop && owner[edge.dependency] == loop)
        }
        for stage in spec.stages {
            guard let loop = owner[stage.name.value] else { continue }
            let templates = [setting(stage, \.system), stage.prompt].compactMap { $0 }
            for reference in templates.flatMap(\.references) where reference.fallback == nil {
                let root = reference.root.value
                guard root == stage.name.value || root == loop else { continue }
                diagnostics.report(
                    .maybeAbsent, at: reference.span,
                    "`\(root)` is read from the previous iteration of the loop, which the first iteration does not have",
                    hint: "add a default: `{{ \(reference) ?? \"none\" }}`")
            }
        }
    }

    /// Every stage `name` depends on, directly or not.
    private func closure(of name: String, in graph: [String: Set<String>]) -> Set<String> {
        var seen = Set<String>()
        var queue = Array(graph[name] ?? [])
        while let next = queue.popLast() {
            if seen.insert(next).inserted { queue += graph[next] ?? [] }
        }
        return seen
    }
}
