import Foundation

/// Where the package, its build products and a test run's scratch files are.
public enum TestPaths {
    /// The package's root: this file is Tests/Support/TestPaths.swift.
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The build products `scripts/build` made (BATCHSENDER_BIN overrides).
    public static let binDirectory: URL = {
        if let bin = ProcessInfo.processInfo.environment["BATCHSENDER_BIN"] { return URL(fileURLWithPath: bin) }
        return packageRoot.appendingPathComponent(".build/debug")
    }()

    /// The `batchsender` executable.
    public static var cli: String { binDirectory.appendingPathComponent("batchsender").path }

    /// A provider's plugin library, `lib<Name>Provider.so`.
    public static func providerPlugin(_ name: String) -> String { binDirectory.appendingPathComponent("lib\(name)Provider.so").path }

    /// A folder of this test process's own under the system's temporary folder.
    public static let scratch: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("batchsender-tests-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// `text` in a new file under `scratch` whose name ends in `name`; its path.
    public static func write(_ text: String, name: String) throws -> String {
        let url = scratch.appendingPathComponent("\(UUID().uuidString)-\(name)")
        try Data(text.utf8).write(to: url)
        return url.path
    }
}
