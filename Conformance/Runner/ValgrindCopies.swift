import Foundation

/// Valgrind 3.19 gives up on the DWARF that Swift 6 emits ("Possibly corrupted
/// debuginfo file"), so a valgrind run uses copies of the suite and the plugin
/// with their debug sections stripped. Symbols stay, so reports still name functions.
enum ValgrindCopies {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func make(executable: String, plugin: String) throws -> (executable: String, plugin: String) {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind") else {
            throw Failure(description: "--valgrind: /usr/bin/valgrind is not installed (apt-get install valgrind)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-valgrind-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let copies = [executable, plugin].map { folder + "/" + URL(fileURLWithPath: $0).lastPathComponent }
        for (source, copy) in zip([executable, plugin], copies) {
            let result = try ChildProcess.run("/usr/bin/objcopy", ["--strip-debug", source, copy], timeout: 120)
            guard result.ending == .exited(0) else {
                throw Failure(description: "--valgrind: objcopy could not strip \(source): \(String(decoding: result.stderr, as: UTF8.self))")
            }
        }
        return (copies[0], copies[1])
    }
}
