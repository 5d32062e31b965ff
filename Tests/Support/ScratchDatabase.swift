import Foundation
import Persistence

/// A PostgreSQL database of one test's own on the stack's server (DATABASE_URL names its admin database),
/// so tests running side by side never see each other's rows. The test drops it when done; one left behind
/// by a crashed run is named after the process and what made it.
public final class ScratchDatabase: Sendable {
    public let name: String
    /// DATABASE_URL with this database's name in place of the admin database's.
    public let url: String
    public let adminURL: String

    /// `purpose`: a word for its name (`api`, `pipeline`, `storage`); `migrated`: whether the schema is applied.
    public init(purpose: String, migrated: Bool = true) throws {
        adminURL = try StackEnvironment.value("DATABASE_URL")
        guard let slash = adminURL.lastIndex(of: "/") else {
            throw TestSupportError("DATABASE_URL \(adminURL) names no database: it should end in /DATABASE")
        }
        name = "batchsender_\(purpose)_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        url = String(adminURL[..<slash]) + "/" + name
        try PostgresConnection(url: adminURL).execute("CREATE DATABASE \(name)")
        if migrated { try Migrator().migrate(PostgresConnection(url: url)) }
    }

    /// A new connection to this database.
    public func connection() throws(PostgresError) -> PostgresConnection { try PostgresConnection(url: url) }

    /// Drops it, closing whatever is still connected. Blocks while PostgreSQL works.
    public func drop() {
        if let admin = try? PostgresConnection(url: adminURL) { try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
    }

    /// `drop` on a thread of its own (`onOwnThread`).
    public func dropOffThread() async {
        await onOwnThread { self.drop() }
    }
}
