#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// POSIX file operations with the guarantees credentials need.
///
/// Foundation's writers create files with the umask's mode and only then let
/// you chmod, leaving a window in which a private key is world-readable; here
/// files are created with their final mode by `open(2)`, and replaced by
/// `rename(2)` so readers never see a half-written key or certificate.
enum FileSystem {
    /// Identity of a file's current contents, cheap to compare for reloads.
    struct Stamp: Equatable, Sendable {
        let inode: UInt64
        let size: Int64
        let modifiedSeconds: Int64
        let modifiedNanoseconds: Int64
    }

    static func readFile(_ path: String) throws(IdentityError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw readError(path, errno)
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw readError(path, errno)
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    static func readString(_ path: String) throws(IdentityError) -> String {
        String(decoding: try readFile(path), as: UTF8.self)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func stamp(_ path: String) -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
        let modified = info.st_mtimespec
        #else
        let modified = info.st_mtim
        #endif
        return Stamp(
            inode: UInt64(info.st_ino),
            size: Int64(info.st_size),
            modifiedSeconds: Int64(modified.tv_sec),
            modifiedNanoseconds: Int64(modified.tv_nsec)
        )
    }

    /// Permission bits of `path` (without the file-type bits).
    static func permissions(_ path: String) throws(IdentityError) -> UInt32 {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw readError(path, errno)
        }
        return UInt32(info.st_mode) & 0o7777
    }

    /// Refuses private keys that group or others may read or write, as ssh does.
    static func requirePrivateKeyMode(_ path: String) throws(IdentityError) {
        let mode = try permissions(path)
        if mode & 0o077 != 0 {
            throw IdentityError(.insecureKeyFileMode(path: path, mode: mode))
        }
    }

    /// Lists the names in a directory, sorted so results are deterministic.
    static func list(_ path: String) throws(IdentityError) -> [String] {
        guard let dir = opendir(path) else {
            throw readError(path, errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." {
                names.append(name)
            }
        }
        return names.sorted()
    }

    /// Creates `path` and missing parents; only directories this call creates get `mode`.
    static func makeDirectory(_ path: String, mode: mode_t) throws(IdentityError) {
        if isDirectory(path) { return }
        let parent = parentDirectory(of: path)
        if parent != path && !isDirectory(parent) {
            try makeDirectory(parent, mode: mode)
        }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw writeError(path, errno)
        }
    }

    /// Creates exactly `path`, failing if it exists, so two writers cannot both "create" it.
    static func makeNewDirectory(_ path: String, mode: mode_t) throws(IdentityError) {
        if mkdir(path, mode) != 0 {
            if errno == EEXIST {
                throw IdentityError(.alreadyExists(path: path))
            }
            throw writeError(path, errno)
        }
    }

    /// Writes a new file, failing if anything already exists at `path`.
    static func createNew(_ path: String, contents: [UInt8], mode: mode_t) throws(IdentityError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            if errno == EEXIST {
                throw IdentityError(.alreadyExists(path: path))
            }
            throw writeError(path, errno)
        }
        do {
            try writeAll(fd, contents, path: path)
            close(fd)
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
    }

    /// Replaces `path` atomically: readers see either the old or the new file, never a mix.
    static func replace(_ path: String, contents: [UInt8], mode: mode_t) throws(IdentityError) {
        let temporary = try createTemporarySibling(of: path, contents: contents, mode: mode)
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw writeError(path, code)
        }
    }

    static func removeFile(_ path: String) throws(IdentityError) {
        if unlink(path) != 0 {
            if errno == ENOENT {
                throw IdentityError(.fileNotFound(path: path))
            }
            throw writeError(path, errno)
        }
    }

    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    static func parentDirectory(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        if slash == trimmed.startIndex { return "/" }
        return String(trimmed[..<slash])
    }

    private static func createTemporarySibling(
        of path: String,
        contents: [UInt8],
        mode: mode_t
    ) throws(IdentityError) -> String {
        for _ in 0..<16 {
            let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            let candidate = parentDirectory(of: path) + "/." + baseName(path) + ".tmp-" + suffix
            do {
                try createNew(candidate, contents: contents, mode: mode)
                return candidate
            } catch where error.kind == .alreadyExists(path: candidate) {
                continue
            }
        }
        throw IdentityError(.writeFailed(path: path, reason: "could not create a temporary file"))
    }

    private static func baseName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    private static func writeAll(_ fd: Int32, _ contents: [UInt8], path: String) throws(IdentityError) {
        var offset = 0
        while offset < contents.count {
            let written = contents.withUnsafeBytes { raw in
                write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw writeError(path, errno)
            }
            offset += written
        }
        if fsync(fd) != 0 {
            throw writeError(path, errno)
        }
    }

    private static func readError(_ path: String, _ code: Int32) -> IdentityError {
        if code == ENOENT || code == ENOTDIR {
            return IdentityError(.fileNotFound(path: path))
        }
        return IdentityError(.unreadableFile(path: path, reason: String(cString: strerror(code))))
    }

    private static func writeError(_ path: String, _ code: Int32) -> IdentityError {
        IdentityError(.writeFailed(path: path, reason: String(cString: strerror(code))))
    }
}
