/// Transactions whose work throws more than `PostgresError` (a service's refusals), and the session every
/// pooled connection starts with.
extension PostgresConnection {
    /// A connection whose timestamps read in UTC, as every API answer gives them.
    public static func utc(url: String) throws(PostgresError) -> PostgresConnection {
        let connection = try PostgresConnection(url: url)
        try connection.execute("SET TIME ZONE 'UTC'")
        return connection
    }

    public func begin() throws(PostgresError) { try execute("BEGIN") }
    public func commit() throws(PostgresError) { try execute("COMMIT") }
    /// Discards the open transaction; a connection whose rollback fails is not healthy and its pool drops it.
    public func rollback() { try? execute("ROLLBACK") }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws, whatever it throws.
    public func inTransaction<T>(_ body: () throws -> T) throws -> T {
        try begin()
        do {
            let value = try body()
            try commit()
            return value
        } catch {
            rollback()
            throw error
        }
    }
}
