import Foundation

extension String {
    /// Whether `other`'s UTF-8 bytes occur in this string's, compared byte by byte: no
    /// bridging to `NSString` as Foundation's `contains` does (thousands of instructions a
    /// look, and a spec's every template and a batch's every reply are looked at).
    func containsBytes(of other: String) -> Bool {
        var (text, other) = (self, other)
        return text.withUTF8 { text in
            other.withUTF8 { other in
                guard let first = other.first else { return true }
                guard other.count <= text.count else { return false }
                var start = 0
                while start + other.count <= text.count {
                    guard let found = text[start...(text.count - other.count)].firstIndex(of: first) else { return false }
                    if memcmp(text.baseAddress! + found, other.baseAddress!, other.count) == 0 { return true }
                    start = found + 1
                }
                return false
            }
        }
    }
}
