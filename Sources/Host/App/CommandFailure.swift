/// A command that cannot do what it was asked, with the exit code scripts rely on.
public struct CommandFailure: Error {
    /// Bad input: a missing file, bad JSON, a path that is no plugin, config the plugin refuses.
    public static let badInput: Int32 = 2

    public var message: String
    public var exitCode: Int32 = badInput

    public init(_ message: String, exitCode: Int32 = badInput) {
        self.message = message
        self.exitCode = exitCode
    }
}
