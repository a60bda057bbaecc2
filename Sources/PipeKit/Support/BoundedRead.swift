import Foundation

/// How much `pipe` reads of each kind of file: each read stops there, so a hostile file
/// (`/dev/zero`, `yes`, a 5 GB sparse file) costs at most this much memory and time.
public enum ReadLimits {
    /// A spec (`pipe lint`, `pipe run`, `pipe graph`).
    public static let spec = 4 * 1024 * 1024
    /// A JSON Schema file: named by a spec, given to `pipe check-json`, or `$ref`ed by one.
    public static let schemaFile = 4 * 1024 * 1024
    /// A document `pipe check-json` validates.
    public static let document = 64 * 1024 * 1024
    /// `pipe run`'s input, unless `--max-input` says otherwise.
    public static let input = 64 * 1024 * 1024
}

/// Reads a whole file, FIFO, device or standard input, but never more than a limit. A
/// regular file's size is checked (fstat) before a byte of it is read; anything else is
/// read in chunks and given up at the limit plus one byte.
public enum BoundedRead {
    /// Why nothing was read.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// More than `limit` bytes; `size` is known for a regular file.
        case tooLarge(size: Int?, limit: Int)
        case isDirectory
        /// What the system said (`strerror`), such as "no such file or directory".
        case system(String)

        public var description: String {
            switch self {
            case let .tooLarge(size?, limit): "it is \(ByteSize.text(size)), over the \(ByteSize.text(limit)) limit"
            case let .tooLarge(nil, limit): "it is over the \(ByteSize.text(limit)) limit"
            case .isDirectory: "it is a directory"
            case let .system(reason): reason
            }
        }

        static func failure(_ code: Int32) -> Problem {
            let text = String(cString: strerror(code))
            return .system(text.prefix(1).lowercased() + text.dropFirst())
        }
    }

    /// The bytes of the file at `path` (which may be a FIFO, such as `<(cmd)`, or a device).
    public static func file(_ path: String, limit: Int) throws(Problem) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .failure(errno) }
        defer { close(descriptor) }
        return try contents(of: descriptor, limit: limit)
    }

    /// The bytes of the file at `path`, or of standard input when `path` is `-`.
    public static func fileOrStandardInput(_ path: String, limit: Int) throws(Problem) -> [UInt8] {
        path == "-" ? try standardInput(limit: limit) : try file(path, limit: limit)
    }

    /// The bytes of standard input, up to its end.
    public static func standardInput(limit: Int) throws(Problem) -> [UInt8] {
        try contents(of: STDIN_FILENO, limit: limit)
    }

    static func contents(of descriptor: Int32, limit: Int) throws(Problem) -> [UInt8] {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .failure(errno) }
        let type = info.st_mode & S_IFMT
        if type == S_IFDIR { throw .isDirectory }
        var bytes: [UInt8] = []
        if type == S_IFREG {
            let size = Int(info.st_size)
            if size > limit { throw .tooLarge(size: size, limit: limit) }
            bytes.reserveCapacity(size)
        }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let wanted = min(chunk.count, limit + 1 - bytes.count)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, wanted) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .failure(errno)
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { throw .tooLarge(size: nil, limit: limit) }
        }
    }
}

/// Sizes as people write them: `64M`, `512K`, `1G`, `1000` (K, M and G are powers of 1024).
public enum ByteSize {
    /// `4 MiB`, `1.5 GiB`, `900 bytes`.
    public static func text(_ bytes: Int) -> String {
        let units = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        for (name, size) in units where bytes >= size {
            if bytes % size == 0 { return "\(bytes / size) \(name)" }
            let tenths = (bytes * 10 + size / 2) / size
            return "\(tenths / 10).\(tenths % 10) \(name)"
        }
        return bytes == 1 ? "1 byte" : "\(bytes) bytes"
    }

    /// A count of bytes with an optional unit (`K`, `KB`, `KiB`, and the same for M and G;
    /// any case); nil when it is not one.
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingSpaces
        let digits = trimmed.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, let count = Int(digits) else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingSpaces.lowercased()
        let multipliers: [String: Int] = [
            "": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
            "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
        ]
        guard let multiplier = multipliers[unit] else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }
}
