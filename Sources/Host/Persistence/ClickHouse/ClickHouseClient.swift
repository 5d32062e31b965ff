import Domain
import Foundation
import HostCore
import ProviderModel

/// ClickHouse over its HTTP interface (port 8123), through the host's one HTTP client. The
/// database is the URL's `?database=`, or else the deployment's (`[deployment] name`, `batchsender` by
/// default), so deployments and test runs can share a server; credentials in the URL go as HTTP basic auth and never into an error text.
public struct ClickHouseClient: Sendable {
    public let database: String
    /// `scheme://[user:pass@]host:port/`: every request adds its own query string.
    private let endpoint: String
    private let http: any HTTPClient
    public private(set) var timeoutMs: Int

    public init(url: String, http: any HTTPClient, timeoutMs: Int = 10_000,
                defaultDatabase: String = DeploymentSettings().analyticsDatabase) throws(ClickHouseError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme, scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty else {
            throw ClickHouseError(.refused, "CLICKHOUSE_URL must be http(s)://[user:password@]host:port/[?database=name]")
        }
        let name = components.queryItems?.first { $0.name == "database" }?.value ?? defaultDatabase
        guard !name.isEmpty, name.utf8.count <= 64, name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (48...57).contains($0) || (97...122).contains($0) }),
              !(48...57).contains(name.utf8.first!) else {
            throw ClickHouseError(.refused, "CLICKHOUSE_URL's database must be lower-case letters, digits and _, not starting with a digit")
        }
        var base = components
        base.query = nil
        base.path = "/"
        guard let endpoint = base.string else { throw ClickHouseError(.refused, "CLICKHOUSE_URL cannot be read") }
        self.database = name
        self.endpoint = endpoint
        self.http = http
        self.timeoutMs = timeoutMs
    }

    /// Creates the database itself (the one request made without it).
    public func createDatabase() async throws(ClickHouseError) {
        _ = try await post(query: nil, body: Array("CREATE DATABASE IF NOT EXISTS \(database)".utf8), inDatabase: false)
    }

    /// Drops the database and every table in it (a scratch deployment's, after its run).
    public func dropDatabase() async throws(ClickHouseError) {
        _ = try await post(query: nil, body: Array("DROP DATABASE IF EXISTS \(database)".utf8), inDatabase: false)
    }

    /// A statement whose answer is not needed (DDL), with `settings` (`name=value&…`) for the server if any.
    public func execute(_ sql: String, settings: String? = nil) async throws(ClickHouseError) {
        _ = try await post(query: nil, body: Array(sql.utf8), settings: settings)
    }

    /// One INSERT of newline-separated JSON objects. The body is parsed into blocks of `maxInsertBlockRows` rows (set
    /// here, whatever the server's profile says), so an insert of fewer rows reaches the table and each of its views
    /// as one block (`AnalyticsSchema` counts on it); the table and the views are written one after another, not at once.
    public func insert(into table: String, jsonEachRow body: [UInt8]) async throws(ClickHouseError) {
        _ = try await post(query: "INSERT INTO \(table) FORMAT JSONEachRow", body: body, settings: "max_insert_block_size=\(Self.maxInsertBlockRows)")
    }

    public static let maxInsertBlockRows = 1_048_576

    /// The same server and database, with another timeout (a long statement such as a fill of the views).
    public func timingOut(afterMs timeoutMs: Int) -> ClickHouseClient {
        var copy = self
        copy.timeoutMs = timeoutMs
        return copy
    }

    /// A SELECT's rows, one JSON object each. ClickHouse quotes 64-bit integers as strings.
    public func rows(_ sql: String) async throws(ClickHouseError) -> [JSONValue] {
        let body = try await post(query: nil, body: Array((sql + " FORMAT JSONEachRow").utf8))
        var rows: [JSONValue] = []
        for line in body.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let row = JSONValue.parse(line) else { throw ClickHouseError(.refused, "ClickHouse answered a row that is not JSON") }
            rows.append(row)
        }
        return rows
    }

    /// A string as a ClickHouse literal: quoted, with backslashes and quotes escaped.
    public static func literal(_ text: String) -> String {
        var out = "'"
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\0": out += "\\0"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "'"
    }

    private func post(query: String?, body: [UInt8], inDatabase: Bool = true, settings: String? = nil) async throws(ClickHouseError) -> [UInt8] {
        var parameters: [String] = []
        if inDatabase { parameters.append("database=\(database)") }
        if let settings { parameters.append(settings) }
        if let query { parameters.append("query=\(Self.percentEncoded(query))") }
        let url = endpoint + (parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&"))
        let request = PreparedRequest(method: "POST", url: url, headers: [KeyValue("Content-Type", "text/plain")],
                                      body: body, messageIndices: [])
        let result = await http.execute(request, timeoutMs: timeoutMs)
        if let failure = result.transportFailure {
            throw ClickHouseError(.unreachable, "ClickHouse is not reachable (\(failure.rawValue))", timedOut: failure == .timeout)
        }
        guard (200..<300).contains(result.status) else {
            let text = String(decoding: result.body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            // 5xx without ClickHouse's own "Code: N" is a proxy or a server in trouble: worth trying again.
            let own = text.hasPrefix("Code:")
            throw ClickHouseError(result.status >= 500 && !own ? .unreachable : .refused, "ClickHouse answered \(result.status): \(text)")
        }
        return result.body
    }

    private static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

public struct ClickHouseError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The server could not be reached or did not answer: try again later.
        case unreachable
        /// The server refused the request: trying it again will not help.
        case refused
    }

    public var kind: Kind
    public var message: String
    /// No answer within the client's timeout: the server may still be at it.
    public var timedOut: Bool

    public init(_ kind: Kind, _ message: String, timedOut: Bool = false) {
        self.kind = kind
        self.message = message
        self.timedOut = timedOut
    }

    public var description: String { message }
}
