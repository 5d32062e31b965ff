import Domain
import HostCore
import Persistence
import ProviderModel
import Templating

/// A user's stored templates: made, listed, read, updated (each update a new immutable version), deleted and
/// previewed. Batches and messages name them (`MessageContent`).
package struct TemplateService: Sendable {
    let database: Database

    package init(database: Database) { self.database = database }

    /// The payload checked for its channel (a send-config may supply the sender later) and compiled, so that a
    /// template that cannot render is refused when stored, not when sent; with the variables it reads.
    static func check(_ fields: JSONFields, channel: Channel) throws(APIError) -> (payloadJSON: String, variables: [String]) {
        let payload = try BatchPayload.check(fields, channel: channel, defaults: nil)
        do {
            let compiled = try BatchTemplate(payloadJSON: payload.compactText, defaultsJSON: "{}", channel: channel)
            return (payload.compactText, compiled.variables)
        } catch {
            throw APIError.invalid("payload", error.description)
        }
    }

    package func create(userID: String, name: String, channel: Channel, payload: JSONFields) async throws(APIError) -> String {
        let checked = try Self.check(payload, channel: channel)
        return try await database.transaction { db in
            let json = try Templates.insert(db, userID: userID, name: name, channel: channel, payloadJSON: checked.payloadJSON,
                                            variables: checked.variables)
            try AuditLog.record(db, userID: userID, action: "template.created", subject: "template", id: Self.id(of: json))
            return json
        }
    }

    /// A new version with this payload (and name, when given); 404 when the user has no such template.
    package func update(userID: String, id: String, name: String?, payload: JSONFields) async throws(APIError) -> String {
        let updated = try await database.transaction { db throws -> String? in
            guard let channel = try Templates.channel(db, userID: userID, id: id) else { return nil }
            let checked = try Self.check(payload, channel: channel)
            let json = try Templates.addVersion(db, userID: userID, id: id, name: name, payloadJSON: checked.payloadJSON,
                                                variables: checked.variables)
            try AuditLog.record(db, userID: userID, action: "template.updated", subject: "template", id: id)
            return json
        }
        guard let updated else { throw APIError.notFound("template \(id)", field: "path.id") }
        return updated
    }

    package func list(userID: String, cursor: String?, limit: Int) async throws(APIError) -> (rows: [String], next: String?) {
        try await database.run { db in
            if let cursor, try !Templates.exists(db, userID: userID, id: cursor) {
                throw APIError.invalid("query.cursor", "is not a cursor this listing gave")
            }
            return try Templates.page(db, userID: userID, cursor: cursor, limit: limit)
        }
    }

    /// A version (the latest when nil) as JSON; 404 when the user has no such template or version.
    package func find(userID: String, id: String, version: Int?) async throws(APIError) -> Templates.Version {
        guard let found = try await database.run({ db in try Templates.version(db, userID: userID, id: id, version: version) }) else {
            throw APIError.notFound(version.map { "version \($0) of template \(id)" } ?? "template \(id)", field: version == nil ? "path.id" : "path.version")
        }
        return found
    }

    package func delete(userID: String, id: String) async throws(APIError) {
        let deleted = try await database.transaction { db in
            let deleted = try Templates.delete(db, userID: userID, id: id)
            if deleted { try AuditLog.record(db, userID: userID, action: "template.deleted", subject: "template", id: id) }
            return deleted
        }
        guard deleted else { throw APIError.notFound("template \(id)", field: "path.id") }
    }

    /// A version rendered for one recipient's variables, as the processor would render it: JSON with the version
    /// and the fields a message would carry; 422 naming the first variable the recipient lacks.
    package func preview(userID: String, id: String, version: Int?, to: String?, variables: JSONValue) async throws(APIError) -> String {
        let stored = try await find(userID: userID, id: id, version: version)
        let template: BatchTemplate
        do {
            template = try BatchTemplate(payloadJSON: stored.payloadJSON, defaultsJSON: "{}", channel: stored.channel)
        } catch {
            throw APIError.invalid("path.id", error.description)
        }
        let address = to ?? Self.sampleAddress[stored.channel] ?? ""
        switch template.render(position: 0, address: address, variablesJSON: variables.compactText) {
        case .failure(let problem):
            throw APIError.invalid("variables", problem.description)
        case .success(let recipient):
            var rendered: [String: JSONValue] = ["id": .string(id), "version": .number(Double(stored.version)), "to": .string(address)]
            let common = template.common
            switch stored.channel {
            case .email:
                rendered["subject"] = .string(recipient.subject ?? common.subject)
                rendered["html"] = .string(recipient.html ?? common.html)
                rendered["text"] = .string(recipient.text ?? common.text)
            case .sms:
                rendered["text"] = .string(recipient.text ?? common.text)
            case .webhook:
                if let payload = recipient.payload ?? (common.payload.isEmpty ? nil : common.payload) {
                    rendered["data"] = JSONValue.parse(Array(payload.utf8)) ?? .string(payload)
                }
                if !(recipient.text ?? common.text).isEmpty { rendered["text"] = .string(recipient.text ?? common.text) }
            }
            return JSONValue.object(rendered).compactText
        }
    }

    /// The address a preview renders `{{address}}` with when the caller names none.
    static let sampleAddress: [Channel: String] = [.email: "recipient@example.com", .sms: "+15555550100", .webhook: "recipient"]

    private static func id(of json: String) -> String {
        guard case .object(let object)? = JSONValue.parse(Array(json.utf8)) else { return "" }
        return object["id"]?.stringValue ?? ""
    }
}
