/// Hex text to bytes and back: W3C ids, digests.
enum Hex {
    /// Bytes as lowercase hex, two digits a byte.
    static func lowercase(_ bytes: UnsafeRawBufferPointer) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 2 * bytes.count) { characters in
            for (index, byte) in bytes.enumerated() {
                characters[2 * index] = digits.utf8Start[Int(byte >> 4)]
                characters[2 * index + 1] = digits.utf8Start[Int(byte & 0x0F)]
            }
            return 2 * bytes.count
        }
    }

    static func bytes(_ text: String) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count / 2)
        var high: UInt8?
        for character in text.utf8 {
            guard let nibble = nibble(character) else { continue }
            if let first = high {
                result.append(first << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return result
    }

    static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `count` lowercase hex digits, not all zero (W3C Trace Context).
    static func isID(_ text: Substring, count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { nibble($0) != nil && !(UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) }
            && text.utf8.contains { $0 != UInt8(ascii: "0") }
    }
}
