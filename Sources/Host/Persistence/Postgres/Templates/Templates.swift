import Domain
import ProviderModel

/// The `templates` and `template_versions` tables: a user's stored templates and their immutable versions,
/// always scoped to their owner. A deleted template is hidden, its versions kept for the batches made from them.
public enum Templates {
    /// A template with one of its versions (`t` and `v`).
    static let versionJSON = """
        jsonb_build_object('id', t.id, 'name', t.name, 'channel', t.channel, 'version', v.version,
                           'latestVersion', t.latest_version, 'payload', v.payload, 'variables', to_jsonb(v.variables),
                           'versionCreatedAt', v.created_at, 'createdAt', t.created_at, 'updatedAt', t.updated_at)
        """

    /// A stored version: what a batch or message made from it needs.
    public struct Version: Sendable {
        public var json: String
        public var channel: Channel
        public var version: Int
        public var payloadJSON: String
    }

    /// A new template with its first version; the template as JSON.
    public static func insert(_ db: PostgresConnection, userID: String, name: String, channel: Channel, payloadJSON: String,
                              variables: [String]) throws(PostgresError) -> String {
        let id = try db.query("INSERT INTO templates (user_id, name, channel) VALUES ($1, $2, $3) RETURNING id",
                              [userID, name, channel.rawValue]).first?[0] ?? ""
        _ = try db.query("INSERT INTO template_versions (template_id, version, payload, variables) VALUES ($1, 1, $2::jsonb, $3::text[])",
                         [id, payloadJSON, PostgresArray.literal(variables.map { Optional($0) })])
        return try version(db, userID: userID, id: id, version: nil)?.json ?? "{}"
    }

    /// The channel of a live template of the user's, nil when there is none.
    public static func channel(_ db: PostgresConnection, userID: String, id: String) throws(PostgresError) -> Channel? {
        try db.query("SELECT channel FROM templates WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL", [id, userID])
            .first.flatMap { $0[0] }.flatMap(Channel.init(rawValue:))
    }

    /// The next version of a live template (renamed when `name` is given): the new version as JSON, nil when there
    /// is no such template. The template's row lock orders concurrent updates, so each gets its own number.
    public static func addVersion(_ db: PostgresConnection, userID: String, id: String, name: String?, payloadJSON: String,
                                  variables: [String]) throws(PostgresError) -> String? {
        let rows = try db.query("""
            WITH bumped AS (
                UPDATE templates SET latest_version = latest_version + 1, name = coalesce($3, name), updated_at = now()
                WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL RETURNING id, latest_version)
            INSERT INTO template_versions (template_id, version, payload, variables)
            SELECT id, latest_version, $4::jsonb, $5::text[] FROM bumped RETURNING version
            """, [id, userID, name, payloadJSON, PostgresArray.literal(variables.map { Optional($0) })])
        guard let version = rows.first?[0].flatMap({ Int($0) }) else { return nil }
        return try self.version(db, userID: userID, id: id, version: version)?.json
    }

    /// A version of a live template (the latest when `version` is nil); nil when there is none.
    public static func version(_ db: PostgresConnection, userID: String, id: String, version: Int?) throws(PostgresError) -> Version? {
        guard let row = try db.query("""
            SELECT \(versionJSON)::text, t.channel, v.version, v.payload::text
            FROM templates t JOIN template_versions v ON v.template_id = t.id AND v.version = coalesce($3::integer, t.latest_version)
            WHERE t.id = $1 AND t.user_id = $2 AND t.deleted_at IS NULL
            """, [id, userID, version.map(String.init)]).first,
              let channel = row[1].flatMap(Channel.init(rawValue:)), let number = row[2].flatMap({ Int($0) }) else { return nil }
        return Version(json: row[0] ?? "{}", channel: channel, version: number, payloadJSON: row[3] ?? "{}")
    }

    /// A template with its latest version's number and variables, not its payload (which may be a megabyte).
    static let summaryJSON = """
        jsonb_build_object('id', t.id, 'name', t.name, 'channel', t.channel, 'version', v.version, 'latestVersion', t.latest_version,
                           'variables', to_jsonb(v.variables), 'createdAt', t.created_at, 'updatedAt', t.updated_at)
        """

    /// The user's live templates, summed up, newest first; `cursor` is the last id of the previous page.
    public static func page(_ db: PostgresConnection, userID: String, cursor: String?, limit: Int) throws(PostgresError) -> (rows: [String], next: String?) {
        let rows = try db.query("""
            SELECT \(summaryJSON)::text, t.id FROM templates t JOIN template_versions v ON v.template_id = t.id AND v.version = t.latest_version
            WHERE t.user_id = $1 AND t.deleted_at IS NULL
              AND ($2::uuid IS NULL OR (t.created_at, t.id) < (SELECT created_at, id FROM templates WHERE id = $2))
            ORDER BY t.created_at DESC, t.id DESC LIMIT $3
            """, [userID, cursor, String(limit + 1)])
        let page = rows.prefix(limit)
        return (page.compactMap { $0[0] }, rows.count > limit ? page.last?[1] ?? nil : nil)
    }

    /// Whether the cursor names a template of the user's (deleted ones too: a page may end on one deleted since).
    public static func exists(_ db: PostgresConnection, userID: String, id: String) throws(PostgresError) -> Bool {
        try !db.query("SELECT 1 FROM templates WHERE id = $1 AND user_id = $2", [id, userID]).isEmpty
    }

    /// Hides a live template; whether there was one.
    public static func delete(_ db: PostgresConnection, userID: String, id: String) throws(PostgresError) -> Bool {
        try !db.query("UPDATE templates SET deleted_at = now() WHERE id = $1 AND user_id = $2 AND deleted_at IS NULL RETURNING id",
                      [id, userID]).isEmpty
    }
}
