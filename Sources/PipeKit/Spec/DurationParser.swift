/// Durations in a spec: `500ms`, `60s`, `5m`, `1h`, `1m30s`, or a number of seconds.
public enum DurationParser {
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingSpaces
        if let seconds = Double(trimmed), seconds >= 0, seconds.isFinite { return .milliseconds(Int64(seconds * 1000)) }
        var total: Duration = .zero
        var number = ""
        var unit = ""
        var parts = 0
        func flush() -> Bool {
            guard let value = Double(number), value >= 0 else { return false }
            let scale: Double
            switch unit {
            case "ms": scale = 0.001
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            default: return false
            }
            total += .milliseconds(Int64((value * scale * 1000).rounded()))
            parts += 1
            number = ""
            unit = ""
            return true
        }
        for c in trimmed {
            if c.isNumber || c == "." {
                if !unit.isEmpty { guard flush() else { return nil } }
                number.append(c)
            } else if c.isLetter {
                guard !number.isEmpty else { return nil }
                unit.append(c)
            } else {
                return nil
            }
        }
        guard !number.isEmpty, !unit.isEmpty, flush(), parts > 0 else { return nil }
        return total
    }
}

extension Duration {
    /// Seconds as a Double, for arithmetic and display.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
