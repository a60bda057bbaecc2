/// W3C Trace Context identifiers: a 32-hex trace id per run, 16-hex span ids.
public enum TraceIDs {
    public static func traceID() -> String { randomHex(bytes: 16) }
    public static func spanID() -> String { randomHex(bytes: 8) }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        repeat {
            text = (0..<bytes).map { _ in String(UInt8.random(in: 0...255, using: &generator), radix: 16).leftPadded(to: 2) }.joined()
        } while text.allSatisfy { $0 == "0" }  // all zeros is invalid in W3C Trace Context
        return text
    }
}
