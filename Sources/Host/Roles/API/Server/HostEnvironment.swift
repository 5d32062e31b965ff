import Messaging
import ProviderCrypto

/// What the host needs from its environment, checked on start-up so that a
/// missing or malformed variable is named before anything else happens.
public struct HostEnvironment: Sendable {
    public var databaseURL: String
    public var redisURL: String
    public var natsURL: String
    public var clickhouseURL: String?
    /// The 32-byte key that seals send-config credentials (BATCHSENDER_MASTER_KEY, 64 hex digits).
    public var masterKey: [UInt8]

    public static let variables = ["DATABASE_URL", "REDIS_URL", "NATS_URL", "BATCHSENDER_MASTER_KEY"]
    /// Read when set: without it, analytics are off.
    public static let optionalVariables = ["CLICKHOUSE_URL"]

    /// Every problem at once, one line each, so that one restart fixes them all.
    public init(_ environment: [String: String]) throws(HostEnvironmentError) {
        var problems: [String] = []
        func url(_ name: String, schemes: [String], example: String) -> String {
            guard let value = environment[name], !value.isEmpty else {
                problems.append("\(name) is missing (e.g. \(example))")
                return ""
            }
            guard schemes.contains(where: { value.hasPrefix($0 + "://") && value.count > $0.count + 3 }) else {
                problems.append("\(name) must be a \(schemes.map { $0 + "://" }.joined(separator: " or ")) URL, not \"\(value.prefix(60))\"")
                return ""
            }
            return value
        }
        databaseURL = url("DATABASE_URL", schemes: ["postgres", "postgresql"], example: "postgres://batchsender@127.0.0.1:5433/batchsender")
        redisURL = url("REDIS_URL", schemes: ["redis"], example: "redis://127.0.0.1:6379")
        natsURL = url("NATS_URL", schemes: ["nats"], example: "nats://127.0.0.1:4222")
        if !natsURL.isEmpty {
            do { _ = try NATSServers.parse(natsURL) } catch { problems.append(error.description) }
        }
        clickhouseURL = environment["CLICKHOUSE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let clickhouse = clickhouseURL, !(clickhouse.hasPrefix("http://") || clickhouse.hasPrefix("https://")) {
            problems.append("CLICKHOUSE_URL must be an http:// or https:// URL, not \"\(clickhouse.prefix(60))\"")
        }
        masterKey = []
        if let text = environment["BATCHSENDER_MASTER_KEY"], !text.isEmpty {
            if let key = Encoding.unhex(text), key.count == SecretBox.keyBytes { masterKey = key }
            else { problems.append("BATCHSENDER_MASTER_KEY must be 64 hex digits (32 bytes); generate one with `openssl rand -hex 32`") }
        } else {
            problems.append("BATCHSENDER_MASTER_KEY is missing (64 hex digits; `openssl rand -hex 32` makes one)")
        }
        guard problems.isEmpty else { throw HostEnvironmentError(problems: problems) }
    }
}

public struct HostEnvironmentError: Error, Sendable, CustomStringConvertible {
    public var problems: [String]
    public var description: String {
        "the environment is incomplete (scripts/stack up, then `set -a; . ./.env.dev; set +a`):\n  "
            + problems.joined(separator: "\n  ")
    }
}
