import ProviderModel

/// One stored send-config, as every reader gets it: the API, the admin limits, the sender's plugin instances.
/// The credentials are only what the vault sealed.
public struct SendConfigRow: Sendable {
    public var id: String
    public var userID: String
    public var name: String
    public var provider: String
    /// `managed` (the deployment's account) or `byok` (the user's own).
    public var mode: String
    public var channel: Channel
    /// The user's own limit, messages/s; nil for the provider's default.
    public var rateLimit: Int?
    public var defaultsJSON: String
    public var sealed: String
    public var nonce: String
    public var deleted: Bool
    /// The instants as JSON renders them (ISO 8601 with the zone).
    public var createdAt: String
    public var updatedAt: String
    /// Changes whenever the row does: what cached plugin instances are compared against.
    public var version: String
    /// The configs (of the same user and channel) its unsent messages go through while its provider is down, in order.
    public var fallbacks: [String] = []

    public var managed: Bool { mode == "managed" }

    /// The defaults applied to every batch's payload (`from`, `replyTo`, …).
    public var defaults: [String: String] {
        guard case .object(let object)? = JSONValue.parse(Array(defaultsJSON.utf8)) else { return [:] }
        return object.compactMapValues(\.stringValue)
    }

    /// What the API shows of the row (its credentials are added, masked, by the caller).
    public var json: [String: JSONValue] {
        ["id": .string(id), "name": .string(name), "provider": .string(provider), "mode": .string(mode),
         "channel": .string(channel.rawValue), "rateLimit": rateLimit.map { .number(Double($0)) } ?? .null,
         "defaults": JSONValue.parse(Array(defaultsJSON.utf8)) ?? .object([:]), "fallbacks": .array(fallbacks.map { .string($0) }),
         "createdAt": .string(createdAt), "updatedAt": .string(updatedAt)]
    }
}

/// The `send_configs` table. Deleted configs are kept (batches refer to them) but hidden from their users.
public enum SendConfigs {
    static let columns = """
        c.id, c.user_id, c.name, c.provider, c.mode, c.channel, c.rate_limit, c.defaults::text, c.sealed_credentials::text,
        c.credentials_nonce::text, c.deleted_at IS NOT NULL, to_jsonb(c.created_at) #>> '{}', to_jsonb(c.updated_at) #>> '{}',
        c.updated_at::text, array_to_string(c.fallbacks, ',')
        """

    static func row(_ r: [String?]) -> SendConfigRow {
        SendConfigRow(id: r[0] ?? "", userID: r[1] ?? "", name: r[2] ?? "", provider: r[3] ?? "", mode: r[4] ?? "",
                      channel: Channel(rawValue: r[5] ?? "") ?? .email, rateLimit: r[6].flatMap { Int($0) }, defaultsJSON: r[7] ?? "{}",
                      sealed: r[8] ?? "", nonce: r[9] ?? "", deleted: r[10] == "t", createdAt: r[11] ?? "", updatedAt: r[12] ?? "",
                      version: r[13] ?? "", fallbacks: (r[14] ?? "").split(separator: ",").map(String.init))
    }

    /// What a user sets on a config.
    public struct Fields: Sendable {
        public var name: String
        public var provider: String
        public var mode: String
        public var channel: String
        public var rateLimit: Int?
        public var defaultsJSON: String
        /// Ids of the user's live configs of the same channel, checked by the caller under the row locks.
        public var fallbacks: [String]

        public init(name: String, provider: String, mode: String, channel: String, rateLimit: Int?, defaultsJSON: String, fallbacks: [String] = []) {
            self.fallbacks = fallbacks
            self.name = name
            self.provider = provider
            self.mode = mode
            self.channel = channel
            self.rateLimit = rateLimit
            self.defaultsJSON = defaultsJSON
        }
    }

    /// A unique violation here means the user has a live config of that name.
    public static func insert(_ db: PostgresConnection, userID: String, fields: Fields, sealedHex: String,
                              nonceHex: String) throws(PostgresError) -> SendConfigRow {
        let rows = try db.query("""
            INSERT INTO send_configs AS c (user_id, name, provider, mode, channel, sealed_credentials, credentials_nonce, rate_limit, defaults,
                                           fallbacks)
            VALUES ($1, $2, $3, $4, $5, $6::bytea, $7::bytea, $8::integer, $9::jsonb, $10::uuid[])
            RETURNING \(columns)
            """, [userID, fields.name, fields.provider, fields.mode, fields.channel, sealedHex, nonceHex,
                  fields.rateLimit.map(String.init), fields.defaultsJSON, PostgresArray.literal(fields.fallbacks.map { Optional($0) })])
        return row(rows[0])
    }

    /// The user's live config; `forUpdate` locks it for a change.
    public static func find(_ db: PostgresConnection, userID: String, id: String, forUpdate: Bool = false) throws(PostgresError) -> SendConfigRow? {
        try db.query("""
            SELECT \(columns) FROM send_configs c WHERE c.id = $1 AND c.user_id = $2 AND c.deleted_at IS NULL \(forUpdate ? "FOR UPDATE" : "")
            """, [id, userID]).first.map(row)
    }

    /// Any config by id, deleted or not, whoever owns it: the pipeline's and the operators' lookup.
    public static func find(_ db: PostgresConnection, id: String) throws(PostgresError) -> SendConfigRow? {
        try db.query("SELECT \(columns) FROM send_configs c WHERE c.id = $1", [id]).first.map(row)
    }

    /// The user's live configs, oldest first.
    public static func list(_ db: PostgresConnection, userID: String) throws(PostgresError) -> [SendConfigRow] {
        try db.query("""
            SELECT \(columns) FROM send_configs c WHERE c.user_id = $1 AND c.deleted_at IS NULL ORDER BY c.created_at, c.id
            """, [userID]).map(row)
    }

    public static func update(_ db: PostgresConnection, userID: String, id: String, fields: Fields, sealedHex: String,
                              nonceHex: String) throws(PostgresError) -> SendConfigRow? {
        try db.query("""
            UPDATE send_configs c SET name = $3, sealed_credentials = $4::bytea, credentials_nonce = $5::bytea,
                   rate_limit = $6::integer, defaults = $7::jsonb, fallbacks = $8::uuid[], updated_at = now()
            WHERE c.id = $1 AND c.user_id = $2 AND c.deleted_at IS NULL
            RETURNING \(columns)
            """, [id, userID, fields.name, sealedHex, nonceHex, fields.rateLimit.map(String.init), fields.defaultsJSON,
                  PostgresArray.literal(fields.fallbacks.map { Optional($0) })]).first.map(row)
    }

    /// Locks the user's config row (deleted or not) against a batch being queued with it.
    public static func lock(_ db: PostgresConnection, userID: String, id: String) throws(PostgresError) {
        _ = try db.query("SELECT 1 FROM send_configs WHERE id = $1 AND user_id = $2 FOR UPDATE", [id, userID])
    }

    /// Hides the config and frees its name, and takes it out of the user's other configs' fallbacks; whether a
    /// live one was there.
    public static func markDeleted(_ db: PostgresConnection, userID: String, id: String) throws(PostgresError) -> Bool {
        let deleted = try !db.query("""
            UPDATE send_configs SET deleted_at = now(), name = name || ' (deleted ' || id || ')'
            WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL RETURNING id
            """, [id, userID]).isEmpty
        if deleted {
            _ = try db.query("""
                UPDATE send_configs SET fallbacks = array_remove(fallbacks, $1::uuid), updated_at = now()
                WHERE user_id = $2 AND $1::uuid = ANY(fallbacks)
                """, [id, userID])
        }
        return deleted
    }

    /// Which of `ids` are the user's live configs on `channel`, locked against a delete while the caller names them.
    public static func liveOnChannel(_ db: PostgresConnection, userID: String, ids: [String], channel: String) throws(PostgresError) -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return Set(try db.query("""
            SELECT id::text FROM send_configs
            WHERE id = ANY($1::uuid[]) AND user_id = $2 AND channel = $3 AND deleted_at IS NULL ORDER BY id FOR SHARE
            """, [PostgresArray.literal(ids.map { Optional($0) }), userID, channel]).compactMap { $0[0] })
    }
}
