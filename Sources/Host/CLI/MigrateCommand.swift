import App
import Analytics
import ArgumentParser
import Domain
import Foundation
import HostCore
import Messaging
import Persistence
import Services
import ProviderInstances
import Templating

/// `batchsender migrate`: brings the database schema up to date (the host also does this on start-up).
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the database migrations that are missing; prints the versions applied.")

    @Option(name: .customLong("database-url"), help: "postgres://user@host:port/database (default: $DATABASE_URL).")
    var databaseURL: String?

    func run() throws {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw CommandFailure("DATABASE_URL is not set: pass --database-url or load .env.dev (scripts/stack up starts the database)")
        }
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw CommandFailure("DATABASE_URL must be a postgres:// URL, not \(url.prefix(40))")
        }
        do {
            let migrated = try SchemaService.migrate(url: url)
            Output.json(MigrationReport(applied: migrated.applied, version: migrated.version))
        } catch {
            throw CommandFailure("\(error)", exitCode: 1)
        }
    }
}

struct MigrationReport: Encodable {
    var applied: [Int]
    var version: Int
}
