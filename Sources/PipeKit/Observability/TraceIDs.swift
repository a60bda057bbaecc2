/// W3C Trace Context identifiers: a 32-hex trace id per run, 16-hex span ids.
public enum TraceIDs {
    public static func traceID() -> String { randomHex(bytes: 16) }
    public static func spanID() -> String { randomHex(bytes: 8) }

    /// `bytes` (at most 16) random bytes as lowercase hex, never all zeros; drawn 8 bytes at a
    /// time (a system call each: a batch makes a trace id for every item).
    static func randomHex(bytes: Int) -> String {
        precondition(bytes <= 16)
        var generator = SystemRandomNumberGenerator()
        while true {
            var words: (UInt64, UInt64) = (generator.next(), bytes > 8 ? generator.next() : 0)
            let text = withUnsafeBytes(of: &words) { words -> String? in
                let shown = UnsafeRawBufferPointer(rebasing: words.prefix(bytes))
                // All zeros is invalid in W3C Trace Context.
                return shown.contains { $0 != 0 } ? Hex.lowercase(shown) : nil
            }
            if let text { return text }
        }
    }
}
