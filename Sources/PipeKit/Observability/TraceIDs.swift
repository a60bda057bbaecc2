/// W3C Trace Context identifiers: a 32-hex trace id per run, 16-hex span ids.
public enum TraceIDs {
    public static func traceID() -> String { randomHex(bytes: 16) }
    public static func spanID() -> String { randomHex(bytes: 8) }

    /// `bytes` random bytes as lowercase hex, never all zeros; drawn 8 bytes at a time (a
    /// system call each: a batch makes a trace id for every item).
    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let digits: StaticString = "0123456789abcdef"
        while true {
            var zero = true
            let text = String(unsafeUninitializedCapacity: 2 * bytes) { characters in
                var word: UInt64 = 0
                for index in 0..<bytes {
                    if index % 8 == 0 { word = generator.next() }
                    let byte = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                    if byte != 0 { zero = false }
                    characters[2 * index] = digits.utf8Start[Int(byte >> 4)]
                    characters[2 * index + 1] = digits.utf8Start[Int(byte & 0x0F)]
                }
                return 2 * bytes
            }
            if !zero { return text }  // all zeros is invalid in W3C Trace Context
        }
    }
}
