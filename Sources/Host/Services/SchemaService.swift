import Persistence

/// The database's schema, brought up to date by the command line (the servers migrate on start-up themselves).
package enum SchemaService {
    /// Applies the missing migrations: their versions, and the version now.
    package static func migrate(url: String) throws -> (applied: [Int], version: Int) {
        let connection = try PostgresConnection(url: url)
        let migrator = Migrator()
        let applied = try migrator.migrate(connection)
        return (applied, try migrator.currentVersion(connection))
    }

    /// Brings the schema up to date on one of the pool's connections: the versions applied.
    package static func migrate(_ database: Database) async throws -> [Int] {
        try await database.pool.withConnection { db in try Migrator().migrate(db) }
    }

    /// A connection to a database whose schema is up to date, for a command's own work.
    package static func connectMigrated(url: String) throws -> PostgresConnection {
        let connection = try PostgresConnection(url: url)
        try Migrator().migrate(connection)
        return connection
    }
}
