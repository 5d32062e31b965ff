/// Whether PostgreSQL answers on a connection: a readiness probe's round trip.
public enum PostgresProbe {
    public static func ping(_ db: PostgresConnection) throws(PostgresError) {
        _ = try db.query("SELECT 1")
    }
}
