import App
import Analytics
import ArgumentParser
import Domain
import Foundation
import HostCore
import Messaging
import Persistence
import ProviderCrypto
import ProviderModel
import SenderAPI
import Services
import WebDashboard

/// `batchsender apikey create`: the first key of a user (later ones come from the API).
struct APIKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "Manage API keys and dashboard passwords.",
        subcommands: [Create.self, Password.self])

    /// `batchsender apikey password`: lets a user made by `apikey create` sign in to the dashboard.
    struct Password: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a user's dashboard password (read from standard input, one line); creates the user if needed and signs out their sessions.")

        @Option(help: "The user's email address.") var email: String
        @Option(name: .customLong("database-url"), help: "postgres://… (default: $DATABASE_URL).")
        var databaseURL: String?

        func run() throws {
            guard let address = EmailAddress.bare(email), address == email else {
                throw CommandFailure("--email: \"\(email)\" is not an email address")
            }
            guard let line = readLine(strippingNewline: true), line.count >= 10, line.utf8.count <= 1_024 else {
                throw CommandFailure("standard input: give the password on one line, at least 10 characters (at most 1024 bytes)")
            }
            guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
                throw CommandFailure("DATABASE_URL is not set: pass --database-url or load .env.dev")
            }
            guard let hash = PasswordHash.hash(line) else { throw CommandFailure("the password could not be hashed (out of memory?)", exitCode: 1) }
            do {
                let db = try SchemaService.connectMigrated(url: url)
                try AccountService.setPassword(db, email: email.lowercased(), passwordHash: hash)
                Output.json(JSONValue.object(["email": .string(email.lowercased()), "password": .string("set")]))
            } catch {
                throw CommandFailure("\(error)", exitCode: 1)
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the user if needed and print a new API key; the key is shown only this once.")

        @Option(help: "The user's email address.") var email: String
        @Option(help: "A name for the key, to tell keys apart.") var name: String = "default"
        @Option(name: .customLong("database-url"), help: "postgres://… (default: $DATABASE_URL).")
        var databaseURL: String?

        func run() throws {
            guard let address = EmailAddress.bare(email), address == email else {
                throw CommandFailure("--email: \"\(email)\" is not an email address")
            }
            guard (1...100).contains(name.count) else { throw CommandFailure("--name: must be 1 to 100 characters") }
            guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
                throw CommandFailure("DATABASE_URL is not set: pass --database-url or load .env.dev")
            }
            do {
                let db = try SchemaService.connectMigrated(url: url)
                let created = try APIKeyService.create(db, email: email.lowercased(), name: name)
                guard case .object(var object)? = JSONValue.parse(Array(created.utf8)) else { throw CommandFailure("unreadable key row", exitCode: 1) }
                object["email"] = .string(email.lowercased())
                Output.json(JSONValue.object(object))
            } catch let failure as CommandFailure {
                throw failure
            } catch {
                throw CommandFailure("\(error)", exitCode: 1)
            }
        }
    }
}
