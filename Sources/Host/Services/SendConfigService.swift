import Domain
import Persistence
import ProviderInstances
import ProviderModel

/// Users' provider accounts. Credentials go into PostgreSQL only as the vault sealed them; they come out
/// opened for the caller to mask. A deleted config is kept (batches refer to it) but hidden.
package struct SendConfigService: Sendable {
    let database: Database
    let vault: CredentialVault

    package init(database: Database, vault: CredentialVault) {
        self.database = database
        self.vault = vault
    }

    /// A stored config with its credentials opened.
    package struct Opened: Sendable {
        package var row: SendConfigRow
        package var credentials: [String: JSONValue]
    }

    static let conflict = "a send-config with this name already exists; choose another name"

    package func create(userID: String, fields: SendConfigs.Fields, credentials: [String: JSONValue]) async throws(APIError) -> Opened {
        let sealed = vault.seal(credentials)
        let row = try await database.transaction(conflict: Self.conflict) { db in
            try Self.checkFallbacks(db, userID: userID, id: nil, fields: fields)
            let row = try SendConfigs.insert(db, userID: userID, fields: fields, sealedHex: sealed.ciphertextHex, nonceHex: sealed.nonceHex)
            try AuditLog.record(db, userID: userID, action: "send_config.created", subject: "send_config", id: nil,
                                detail: JSONValue.object(["name": .string(fields.name)]).compactText)
            return row
        }
        return try open(row)
    }

    package func list(userID: String) async throws(APIError) -> [Opened] {
        var opened: [Opened] = []
        for row in try await database.run({ db in try SendConfigs.list(db, userID: userID) }) { opened.append(try open(row)) }
        return opened
    }

    /// The user's live config; 404 when there is none.
    package func find(userID: String, id: String) async throws(APIError) -> Opened {
        guard let row = try await database.run({ db in try SendConfigs.find(db, userID: userID, id: id) }) else {
            throw APIError.notFound("send-config \(id)", field: "path.id")
        }
        return try open(row)
    }

    /// Changes the user's live config under its lock: `change` gets it as stored and says what it becomes.
    package func update(userID: String, id: String,
                        change: @escaping @Sendable (Opened) throws -> (SendConfigs.Fields, [String: JSONValue])) async throws(APIError) -> Opened {
        let vault = self.vault
        let row = try await database.transaction(conflict: Self.conflict) { db in
            guard let current = try SendConfigs.find(db, userID: userID, id: id, forUpdate: true) else {
                throw APIError.notFound("send-config \(id)", field: "path.id")
            }
            let (fields, credentials) = try change(Opened(row: current, credentials: try vault.open(ciphertextHex: current.sealed,
                                                                                                   nonceHex: current.nonce)))
            try Self.checkFallbacks(db, userID: userID, id: id, fields: fields)
            let sealed = vault.seal(credentials)
            guard let row = try SendConfigs.update(db, userID: userID, id: id, fields: fields, sealedHex: sealed.ciphertextHex,
                                                   nonceHex: sealed.nonceHex) else { throw APIError.notFound("send-config \(id)", field: "path.id") }
            try AuditLog.record(db, userID: userID, action: "send_config.updated", subject: "send_config", id: id)
            return row
        }
        return try open(row)
    }

    /// Hides the config and frees its name; refused while a batch that uses it is still sending, 404 when there is none.
    package func delete(userID: String, id: String) async throws(APIError) {
        let deleted = try await database.transaction { db in try Self.delete(db, userID: userID, id: id) }
        guard deleted else { throw APIError.notFound("send-config \(id)", field: "path.id") }
    }

    /// The same on a connection of the caller's; whether a live config was deleted.
    package static func delete(_ db: PostgresConnection, userID: String, id: String) throws -> Bool {
        // Locked first: a batch being queued holds this row shared (`Batches.state(locking:)`), so either the queue
        // commits first and the check below sees its batch, or it waits and then finds the config deleted.
        try SendConfigs.lock(db, userID: userID, id: id)
        guard try !Batches.anySending(db, userID: userID, sendConfigID: id) else {
            throw APIError.conflict("batches using this send-config (or sending through it as their fallback) are queued or sending; "
                                    + "cancel them, or wait until they finish", field: "path.id")
        }
        let deleted = try SendConfigs.markDeleted(db, userID: userID, id: id)
        if deleted { try AuditLog.record(db, userID: userID, action: "send_config.deleted", subject: "send_config", id: id) }
        return deleted
    }

    /// Each fallback must be another of the user's live configs on the same channel: a message goes through it as
    /// it would through the config itself (the same payload, the same kind of address). Locked shared, so that a
    /// delete waits until the name is stored, and then takes it out again (`SendConfigs.markDeleted`).
    static func checkFallbacks(_ db: PostgresConnection, userID: String, id: String?, fields: SendConfigs.Fields) throws {
        guard !fields.fallbacks.isEmpty else { return }
        if let id, let index = fields.fallbacks.firstIndex(of: id.lowercased()) {
            throw APIError.invalid("fallbacks[\(index)]", "is this send-config itself; name another config to stand in for it")
        }
        let live = try SendConfigs.liveOnChannel(db, userID: userID, ids: fields.fallbacks, channel: fields.channel)
        if let index = fields.fallbacks.firstIndex(where: { !live.contains($0) }) {
            throw APIError.invalid("fallbacks[\(index)]", "no live \(fields.channel) send-config \(fields.fallbacks[index]) of yours exists")
        }
    }

    private func open(_ row: SendConfigRow) throws(APIError) -> Opened {
        do { return Opened(row: row, credentials: try vault.open(ciphertextHex: row.sealed, nonceHex: row.nonce)) } catch {
            throw APIError.internal(error.description)
        }
    }
}
