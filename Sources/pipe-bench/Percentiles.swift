import Foundation

/// Sorted latencies and their percentiles, as the benchmarks print them.
struct Percentiles {
    let sorted: [Duration]

    init(_ latencies: [Duration]) {
        sorted = latencies.sorted()
    }

    /// The latency at fraction `p` (0...1) in milliseconds, with `decimals`; "-" when empty.
    func text(_ p: Double, decimals: Int) -> String {
        guard !sorted.isEmpty else { return "-" }
        let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
        return String(format: "%.\(decimals)f ms", sorted[max(0, index)].seconds * 1000)
    }
}
