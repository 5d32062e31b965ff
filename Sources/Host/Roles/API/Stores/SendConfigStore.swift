import Analytics
import Domain
import HostCore
import Messaging
import Persistence
import ProviderInstances
import ProviderModel

/// Send-configs in PostgreSQL: the credentials column holds only what the
/// vault sealed. Deleted configs are kept (batches refer to them) but hidden.
enum SendConfigStore {
    static let configJSON = """
        jsonb_build_object('id', id, 'name', name, 'provider', provider, 'mode', mode, 'channel', channel,
                           'rateLimit', rate_limit, 'defaults', defaults, 'createdAt', created_at, 'updatedAt', updated_at)
        """

    /// A stored config: its public JSON and its sealed credentials.
    struct Row: Sendable {
        var json: String
        var provider: String
        var sealed: String
        var nonce: String
    }

    static let conflict = "a send-config with this name already exists; choose another name"

    static func insert(_ db: PostgresConnection, userID: String, input: SendConfigInput, sealed: CredentialVault.Sealed) throws -> Row {
        let rows = try db.query("""
            INSERT INTO send_configs (user_id, name, provider, mode, channel, sealed_credentials, credentials_nonce, rate_limit, defaults)
            VALUES ($1, $2, $3, $4, $5, $6::bytea, $7::bytea, $8::integer, $9::jsonb)
            RETURNING \(configJSON)::text, provider, sealed_credentials::text, credentials_nonce::text
            """, [userID, input.name, input.provider, input.mode, input.channel, sealed.ciphertextHex, sealed.nonceHex,
                  input.rateLimit.map(String.init), input.defaultsJSON])
        let row = Self.row(rows[0])
        try AuditLog.record(db, userID: userID, action: "send_config.created", subject: "send_config", id: nil,
                            detail: JSONValue.object(["name": .string(input.name)]).compactText)
        return row
    }

    static func find(_ db: PostgresConnection, userID: String, id: String, forUpdate: Bool = false) throws -> Row? {
        try db.query("""
            SELECT \(configJSON)::text, provider, sealed_credentials::text, credentials_nonce::text
            FROM send_configs WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL \(forUpdate ? "FOR UPDATE" : "")
            """, [id, userID]).first.map(row)
    }

    static func list(_ db: PostgresConnection, userID: String) throws -> [Row] {
        try db.query("""
            SELECT \(configJSON)::text, provider, sealed_credentials::text, credentials_nonce::text
            FROM send_configs WHERE user_id = $1 AND deleted_at IS NULL ORDER BY created_at, id
            """, [userID]).map(row)
    }

    static func update(_ db: PostgresConnection, userID: String, id: String, input: SendConfigInput,
                       sealed: CredentialVault.Sealed) throws -> Row {
        let rows = try db.query("""
            UPDATE send_configs SET name = $3, sealed_credentials = $4::bytea, credentials_nonce = $5::bytea,
                   rate_limit = $6::integer, defaults = $7::jsonb, updated_at = now()
            WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL
            RETURNING \(configJSON)::text, provider, sealed_credentials::text, credentials_nonce::text
            """, [id, userID, input.name, sealed.ciphertextHex, sealed.nonceHex, input.rateLimit.map(String.init), input.defaultsJSON])
        try AuditLog.record(db, userID: userID, action: "send_config.updated", subject: "send_config", id: id)
        return row(rows[0])
    }

    /// Hides the config and frees its name; refused while a batch that uses it is still sending.
    static func delete(_ db: PostgresConnection, userID: String, id: String) throws -> Bool {
        // Locked first: a batch being queued holds this row shared (`BatchStore.lock`), so either the queue
        // commits first and the check below sees its batch, or it waits and then finds the config deleted.
        _ = try db.query("SELECT 1 FROM send_configs WHERE id = $1 AND user_id = $2 FOR UPDATE", [id, userID])
        let busy = try db.query("""
            SELECT 1 FROM batches WHERE send_config_id = $1 AND user_id = $2 AND status IN ('queued', 'processing') LIMIT 1
            """, [id, userID])
        guard busy.isEmpty else {
            throw APIError.conflict("batches using this send-config are queued or sending; cancel them first", field: "path.id")
        }
        let rows = try db.query("""
            UPDATE send_configs SET deleted_at = now(), name = name || ' (deleted ' || id || ')'
            WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL RETURNING id
            """, [id, userID])
        if !rows.isEmpty { try AuditLog.record(db, userID: userID, action: "send_config.deleted", subject: "send_config", id: id) }
        return !rows.isEmpty
    }

    private static func row(_ columns: [String?]) -> Row {
        Row(json: columns[0] ?? "{}", provider: columns[1] ?? "", sealed: columns[2] ?? "", nonce: columns[3] ?? "")
    }
}
