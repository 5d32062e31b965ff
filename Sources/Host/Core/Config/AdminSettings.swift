/// The operators' admin API: the host config's `[admin]` table. Its token is a secret, so the file names
/// the environment variable that holds it (`token = "env:BATCHSENDER_ADMIN_TOKEN"`); without a token the
/// admin API answers 503 to everyone.
public struct AdminSettings: Sendable, Equatable, Decodable {
    public var token: String?

    public init(token: String? = nil) {
        self.token = token
    }

    /// The token, `env:` resolved; nil when none is configured.
    public func resolvedToken(environment: [String: String]) throws(HostConfigError) -> String? {
        guard let token else { return nil }
        guard token.hasPrefix("env:") else {
            throw HostConfigError(path: "[admin]", message: "token must name an environment variable (env:NAME), never hold the secret itself")
        }
        let name = String(token.dropFirst(4))
        guard let value = environment[name], !value.isEmpty else {
            throw HostConfigError(path: "[admin]", message: "token: the environment variable \(name) is not set")
        }
        guard value.utf8.count >= 24 else {
            throw HostConfigError(path: "[admin]", message: "token: \(name) is shorter than 24 characters; use a long random token")
        }
        return value
    }
}
