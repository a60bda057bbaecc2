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

extension DurationParser {
    /// Whether `text` is numbers with units and nothing else: `500ms`, `1.5s`, `1h30m`
    /// (`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`, the form the spec's JSON Schema gives).
    public static func hasUnits(_ text: String) -> Bool {
        var rest = Substring(text).utf8[...]
        func digits() -> Bool {
            let count = rest.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
            rest = rest.dropFirst(count)
            return count > 0
        }
        repeat {
            guard digits() else { return false }
            if rest.first == UInt8(ascii: ".") {
                rest = rest.dropFirst()
                guard digits() else { return false }
            }
            if rest.starts(with: "ms".utf8) {
                rest = rest.dropFirst(2)
            } else if let unit = rest.first, unit == UInt8(ascii: "s") || unit == UInt8(ascii: "m") || unit == UInt8(ascii: "h") {
                rest = rest.dropFirst()
            } else {
                return false
            }
        } while !rest.isEmpty
        return true
    }
}

extension Duration {
    /// Seconds as a Double, for arithmetic and display.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
