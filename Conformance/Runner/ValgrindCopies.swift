import Foundation

/// Valgrind 3.19 gives up on the DWARF that Swift 6 emits ("Possibly corrupted
/// debuginfo file"), so a valgrind run uses copies of the suite and the plugin
/// with their debug sections stripped. Symbols stay, so reports still name functions.
enum ValgrindCopies {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The Swift runtime reads padding while it lays out struct metadata (a
    /// conditional jump on uninitialised bytes that cannot change the result),
    /// and keeps metadata for the life of the process through pointers valgrind
    /// cannot follow. These suppress only what happens while it builds metadata.
    static let swiftRuntimeSuppressions = """
    {
       swift-runtime-struct-layout
       Memcheck:Cond
       fun:swift_initStructMetadata
    }
    {
       swift-runtime-generic-metadata
       Memcheck:Leak
       match-leak-kinds: definite
       ...
       fun:*swift_getGenericMetadata*
    }
    {
       swift-runtime-struct-metadata
       Memcheck:Leak
       match-leak-kinds: definite
       ...
       fun:swift_initStructMetadata*
    }
    {
       swift-runtime-class-metadata
       Memcheck:Leak
       match-leak-kinds: definite
       ...
       fun:swift_initClassMetadata*
    }
    {
       swift-runtime-singleton-metadata
       Memcheck:Leak
       match-leak-kinds: definite
       ...
       fun:*swift_getSingletonMetadata*
    }

    """

    /// Stripped copies of the suite and the plugin, and the suppressions file, in a fresh folder.
    static func make(executable: String, plugin: String) throws -> (executable: String, plugin: String, suppressions: String) {
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
        let suppressions = folder + "/swift-runtime.supp"
        try swiftRuntimeSuppressions.write(toFile: suppressions, atomically: true, encoding: .utf8)
        return (copies[0], copies[1], suppressions)
    }
}
