import Foundation

/// The store's file on disk: private to its owner, because prompts, inputs and replies are
/// the user's data.
enum StoreFile {
    /// Creates the folder (0700) and the empty file (0600) if they are missing, before SQLite
    /// opens it; SQLite gives its `-wal` and `-shm` files the database file's mode.
    static func prepare(_ path: String) throws(StoreError) {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw .cannotCreate(path: path, reason: "cannot create its folder: \(error.localizedDescription)")
            }
        }
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw .cannotCreate(path: path, reason: String(cString: strerror(errno)))
        }
        close(descriptor)
    }

    /// A spec path as the store keeps it: absolute and normalized, so that `last` finds the
    /// runs of one spec from any working directory.
    static func canonical(_ specPath: String) -> String {
        guard specPath != "-", !specPath.hasPrefix("<") else { return specPath }
        // Already so (a batch's items all name one): kept without a URL made per run.
        if isCanonical(specPath) { return specPath }
        return URL(fileURLWithPath: specPath).standardizedFileURL.path
    }

    /// Absolute, with no empty, `.` or `..` component and no `/` at the end.
    static func isCanonical(_ path: String) -> Bool {
        guard path.hasPrefix("/"), path.count > 1, !path.hasSuffix("/") else { return false }
        return !path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst().contains { part in
            part.isEmpty || part.elementsEqual(".".utf8) || part.elementsEqual("..".utf8)
        }
    }
}
