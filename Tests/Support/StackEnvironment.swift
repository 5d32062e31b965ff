import Foundation

/// The shared stack's addresses, which scripts/stack writes to .env.dev and `swift test` inherits.
public enum StackEnvironment {
    /// The value of `name`; an error saying how to get it when it is unset or empty.
    public static func value(_ name: String) throws(TestSupportError) -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw TestSupportError("\(name) is not set: run scripts/test, which starts scripts/stack and loads .env.dev "
                                   + "(or `set -a; . .env.dev; set +a` before swift test)")
        }
        return value
    }
}
