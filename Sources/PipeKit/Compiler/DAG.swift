/// The stages as a directed acyclic graph: who depends on whom, and an order to run them in.
public struct DAG: Sendable {
    /// Stage names in declaration order.
    public let stages: [String]
    /// Each stage's direct dependencies, in declaration order.
    public let dependencies: [String: [String]]
    /// Each stage's direct dependents, in declaration order.
    public let dependents: [String: [String]]
    /// A topological order; ties are broken by declaration order, so it is deterministic.
    public let order: [String]

    /// An edge `stage` depends on `dependency`, with the place that created it.
    public struct Edge: Sendable {
        public var stage: String
        public var dependency: String
        public var span: Span
    }

    /// A cycle, as the stages in data-flow order with its first stage repeated at the end,
    /// and the edge that closes it.
    public struct Cycle: Sendable {
        public var path: [String]
        public var closingEdge: Edge
    }

    /// Builds the graph; `cycles` lists every distinct cycle, and then `order` holds only
    /// the stages outside cycles.
    ///
    /// The work is done on positions (a name's first place in `stages`), not names: with
    /// names, each step hashed strings, and building 500 stages' graph cost 4.8M instructions.
    public static func build(stages: [String], edges: [Edge]) -> (dag: DAG, cycles: [Cycle]) {
        let count = stages.count
        var position: [String: Int] = [:]
        position.reserveCapacity(count)
        for (index, name) in stages.enumerated() where position[name] == nil { position[name] = index }
        // By position: the direct dependencies and dependents, each in declaration order, and
        // the first edge between two stages (`stage * count + dependency`), by its index in `edges`.
        var dependencyPositions = [[Int]](repeating: [], count: count)
        var dependentPositions = [[Int]](repeating: [], count: count)
        var firstEdge: [Int: Int] = [:]
        for (index, edge) in edges.enumerated() {
            guard let stage = position[edge.stage], let dependency = position[edge.dependency],
                firstEdge[stage * count + dependency] == nil
            else { continue }
            firstEdge[stage * count + dependency] = index
            dependencyPositions[stage].append(dependency)
            dependentPositions[dependency].append(stage)
        }
        for index in 0..<count where dependencyPositions[index].count > 1 { dependencyPositions[index].sort() }
        for index in 0..<count where dependentPositions[index].count > 1 { dependentPositions[index].sort() }

        // Cycles: depth-first search over dependencies, in declaration order.
        var cycles: [Cycle] = []
        var seenCycles = Set<[String]>()
        var state = [UInt8](repeating: 0, count: count)  // 1: on the stack, 2: done
        var stack: [Int] = []
        func visit(_ name: Int) {
            state[name] = 1
            stack.append(name)
            for dependency in dependencyPositions[name] {
                if state[dependency] == 1 {
                    // stack[dependency ... name] each depends on the next; data flows the other way.
                    let start = stack.lastIndex(of: dependency)!
                    let members = stack[start...].map { stages[$0] }
                    let key = canonical(members)
                    if seenCycles.insert(key).inserted {
                        let flow = Array(members.reversed()) + [members.last!]
                        cycles.append(Cycle(path: flow, closingEdge: edges[firstEdge[name * count + dependency]!]))
                    }
                } else if state[dependency] == 0 {
                    visit(dependency)
                }
            }
            stack.removeLast()
            state[name] = 2
        }
        for name in stages where state[position[name]!] == 0 { visit(position[name]!) }

        // Kahn's algorithm, always taking the earliest declared ready stage (a heap of
        // declaration positions: a sorted list cost O(n) a stage, 500 independent stages
        // half a million moves).
        var remaining = dependencyPositions.map(\.count)
        var ready = PositionHeap()
        for name in stages where remaining[position[name]!] == 0 { ready.insert(position[name]!) }
        var order: [String] = []
        order.reserveCapacity(count)
        while let next = ready.popMin() {
            order.append(stages[next])
            for dependent in dependentPositions[next] {
                remaining[dependent] -= 1
                if remaining[dependent] == 0 { ready.insert(dependent) }
            }
        }
        var dependencies: [String: [String]] = [:]
        var dependents: [String: [String]] = [:]
        dependencies.reserveCapacity(count)
        dependents.reserveCapacity(count)
        for (index, name) in stages.enumerated() where position[name] == index {
            dependencies[name] = dependencyPositions[index].map { stages[$0] }
            dependents[name] = dependentPositions[index].map { stages[$0] }
        }
        let dag = DAG(stages: stages, dependencies: dependencies, dependents: dependents, order: order)
        return (dag, cycles)
    }

    /// A cycle's members rotated to start at the smallest name, to report each cycle once.
    private static func canonical(_ members: [String]) -> [String] {
        guard let smallest = members.indices.min(by: { members[$0] < members[$1] }) else { return members }
        return Array(members[smallest...] + members[..<smallest])
    }

    /// Stages with no dependents: their outputs make the default pipeline output.
    public var sinks: [String] { stages.filter { dependents[$0]?.isEmpty ?? true } }

    /// Every stage `name` depends on, directly or not.
    public func ancestors(of name: String) -> Set<String> {
        var seen = Set<String>()
        var queue = dependencies[name] ?? []
        while let next = queue.popLast() {
            if seen.insert(next).inserted { queue += dependencies[next] ?? [] }
        }
        return seen
    }

    /// Stages grouped by depth: every stage of a group can run in parallel once the groups
    /// before it are done. (The scheduler does better: a stage starts when its own
    /// dependencies are done.)
    public var levels: [[String]] {
        var depth: [String: Int] = [:]
        for name in order {
            depth[name] = (dependencies[name] ?? []).map { (depth[$0] ?? 0) + 1 }.max() ?? 0
        }
        let count = (depth.values.max() ?? -1) + 1
        var levels = [[String]](repeating: [], count: count)
        for name in order { levels[depth[name]!].append(name) }
        return levels
    }
}

/// A min-heap of stage positions: the ready stages of `DAG.build`, earliest declared first.
private struct PositionHeap {
    private var items: [Int] = []

    mutating func insert(_ position: Int) {
        items.append(position)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> Int? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let smallest = items[0]
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var least = parent
            if left < items.count, items[left] < items[least] { least = left }
            if right < items.count, items[right] < items[least] { least = right }
            if least == parent { break }
            items.swapAt(parent, least)
            parent = least
        }
        return smallest
    }
}
