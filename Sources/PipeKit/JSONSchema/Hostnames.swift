#if canImport(Glibc)
import Glibc
#endif

/// `hostname` (RFC 1123, with IDNA A-labels checked) and `idn-hostname` (RFC 5890 U-labels).
///
/// IDNA validity (punycode, disallowed code points, contextual and bidi rules) is delegated to
/// ICU's UTS #46 implementation in its strict, non-transitional mode, which on Linux is already
/// loaded with Foundation. Where ICU is not reachable, only the label syntax is checked.
enum Hostnames {
    static func isHostname(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253, text.unicodeScalars.allSatisfy(\.isASCII) else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard isLDHLabel(label) else { return false }
        }
        if labels.contains(where: { $0.lowercased().hasPrefix("xn--") }) {
            return ICUIDNA.shared?.isValid(text) ?? true
        }
        return true
    }

    static func isIDNHostname(_ text: String) -> Bool {
        guard !text.isEmpty else { return false }
        let separators: Set<Unicode.Scalar> = [".", "\u{3002}", "\u{FF0E}", "\u{FF61}"]
        var labels: [String] = [""]
        for scalar in text.unicodeScalars {
            if separators.contains(scalar) { labels.append("") } else { labels[labels.count - 1].unicodeScalars.append(scalar) }
        }
        for label in labels {
            guard !label.isEmpty else { return false }
            if label.unicodeScalars.allSatisfy(\.isASCII) {
                guard isLDHLabel(Substring(label)) else { return false }
            } else {
                guard !label.hasPrefix("-"), !label.hasSuffix("-") else { return false }
            }
        }
        guard let idna = ICUIDNA.shared else { return true }
        return idna.isValid(labels.joined(separator: "."))
    }

    /// Letters, digits and hyphens, 1–63 long, no hyphen at either end, and no `--` in
    /// positions 3–4 unless it is an `xn--` A-label.
    private static func isLDHLabel(_ label: Substring) -> Bool {
        guard !label.isEmpty, label.utf8.count <= 63, !label.hasPrefix("-"), !label.hasSuffix("-") else { return false }
        guard label.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 }) else { return false }
        let bytes = Array(label.utf8)
        if bytes.count >= 4, bytes[2] == 45, bytes[3] == 45 {
            return label.lowercased().hasPrefix("xn--")
        }
        return true
    }
}

/// ICU's UTS #46 IDNA processor, looked up at run time (the symbols ship in
/// `lib_FoundationICU.so`, which Foundation loads; linking it directly would need a
/// Package.swift change and exists only on Linux).
final class ICUIDNA: @unchecked Sendable {
    // @unchecked: an ICU UIDNA instance is immutable and documented as thread-safe.
    typealias Open = @convention(c) (UInt32, UnsafeMutablePointer<Int32>) -> OpaquePointer?
    typealias Convert = @convention(c) (OpaquePointer?, UnsafePointer<UInt16>, Int32, UnsafeMutablePointer<UInt16>, Int32, UnsafeMutableRawPointer, UnsafeMutablePointer<Int32>) -> Int32

    private let handle: OpaquePointer
    private let toUnicode: Convert
    private let toASCII: Convert

    static let shared: ICUIDNA? = ICUIDNA()

    private init?() {
        #if os(Linux)
        guard let openSymbol = dlsym(nil, "swift_uidna_openUTS46"),
              let unicodeSymbol = dlsym(nil, "swift_uidna_nameToUnicode"),
              let asciiSymbol = dlsym(nil, "swift_uidna_nameToASCII") else { return nil }
        let open = unsafeBitCast(openSymbol, to: Open.self)
        toUnicode = unsafeBitCast(unicodeSymbol, to: Convert.self)
        toASCII = unsafeBitCast(asciiSymbol, to: Convert.self)
        // USE_STD3_RULES | CHECK_BIDI | CHECK_CONTEXTJ | NONTRANSITIONAL_TO_ASCII | NONTRANSITIONAL_TO_UNICODE | CHECK_CONTEXTO
        let options: UInt32 = 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40
        var status: Int32 = 0
        guard let handle = open(options, &status), status <= 0 else { return nil }
        self.handle = handle
        #else
        return nil
        #endif
    }

    /// True when `name` is a valid IDNA2008 domain name: both conversions succeed without
    /// errors, UTS #46 mapping changed nothing but ASCII case (IDNA2008 does not map), and no
    /// label holds a code point RFC 5892 lists as a DISALLOWED exception (UTS #46 allows them).
    func isValid(_ name: String) -> Bool {
        guard convert(name, with: toUnicode) != nil, convert(name, with: toASCII) != nil else { return false }
        for label in name.split(separator: ".", omittingEmptySubsequences: false).map(String.init) {
            let lowered = Self.asciiLowercased(label)
            if label.unicodeScalars.allSatisfy(\.isASCII) {
                guard convert(label, with: toASCII) == lowered, let decoded = convert(label, with: toUnicode) else { return false }
                if !decoded.unicodeScalars.allSatisfy(Self.isIDNACodePoint) { return false }
            } else {
                guard convert(label, with: toUnicode) == lowered else { return false }
                if !label.unicodeScalars.allSatisfy(Self.isIDNACodePoint) { return false }
            }
        }
        return true
    }

    private static func asciiLowercased(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar.value >= 0x41 && scalar.value <= 0x5A { scalars.append(Unicode.Scalar(scalar.value + 0x20)!) } else { scalars.append(scalar) }
        }
        return String(scalars)
    }

    /// An approximation of RFC 5892's PVALID/CONTEXT sets: ASCII LDH, or letters, marks and
    /// decimal digits (UTS #46 also accepts symbols IDNA2008 disallows, the "NV8" set), or a
    /// listed exception; never an exception listed as DISALLOWED.
    private static func isIDNACodePoint(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return true }
        if disallowedExceptions.contains(scalar.value) { return false }
        if allowedExceptions.contains(scalar.value) { return true }
        switch scalar.properties.generalCategory {
        case .lowercaseLetter, .otherLetter, .modifierLetter, .nonspacingMark, .spacingMark, .decimalNumber: return true
        default: return false
        }
    }

    /// RFC 5892 §2.6 PVALID and CONTEXTO exceptions, plus the joiners (CONTEXTJ).
    private static let allowedExceptions: Set<UInt32> = [0x00DF, 0x03C2, 0x06FD, 0x06FE, 0x0F0B, 0x3007, 0x00B7, 0x0375, 0x05F3, 0x05F4, 0x30FB, 0x200C, 0x200D]

    /// RFC 5892 §2.6 exceptions whose derived property is DISALLOWED.
    private static let disallowedExceptions: Set<UInt32> = [0x0640, 0x07FA, 0x302E, 0x302F, 0x3031, 0x3032, 0x3033, 0x3034, 0x3035, 0x303B]

    private func convert(_ name: String, with function: Convert) -> String? {
        let input = Array(name.utf16)
        var output = [UInt16](repeating: 0, count: max(256, input.count * 4 + 64))
        let info = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 8)
        defer { info.deallocate() }
        info.initializeMemory(as: UInt8.self, repeating: 0, count: 16)
        info.storeBytes(of: Int16(16), toByteOffset: 0, as: Int16.self)
        var status: Int32 = 0
        let capacity = Int32(output.count)
        let length = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                function(handle, source.baseAddress!, Int32(source.count), destination.baseAddress!, capacity, info, &status)
            }
        }
        let errors = info.load(fromByteOffset: 4, as: UInt32.self)
        guard status <= 0, errors == 0, length >= 0, length <= capacity else { return nil }
        return String(decoding: output[0..<Int(length)], as: UTF16.self)
    }
}
