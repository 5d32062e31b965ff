import Domain
import HostCore
import Mustache
import ProviderModel

/// A batch's payload compiled once: the fields every recipient shares, and
/// the fields with `{{variable}}` placeholders, rendered per recipient with
/// swift-mustache. html is escaped as HTML; subject, text and webhook data as
/// plain text. A recipient lacking a variable a field uses is refused with the
/// variable named: a message is never sent with a hole in it. The processor
/// renders batches with it, the API single messages.
public struct BatchTemplate: Sendable {
    enum Field: String { case subject, html, text, payload }

    struct Compiled {
        var field: Field
        var template: MustacheTemplate
        /// The same template as plain concatenation, when every tag is a plain variable.
        var plain: PlainTemplate?
        var html: Bool
        var variables: Set<String>
    }

    public let common: OutboundMessage
    let compiled: [Compiled]
    /// When every field is a plain template and there is no webhook data: the names they read, sorted (their
    /// slots), and each field bound to them. A recipient is then rendered from one array of values.
    let plainSlots: [String]?
    let boundFields: [(field: Field, template: PlainTemplate.Bound, html: Bool)]
    /// Webhook data: its string leaves are rendered one by one, so a variable never breaks the JSON.
    let data: JSONValue?
    let dataTemplates: [String: (MustacheTemplate, Set<String>)]

    public init(payloadJSON: String, defaultsJSON: String, channel: Channel) throws(TemplateError) {
        guard case .object(let payload)? = JSONValue.parse(Array(payloadJSON.utf8)) else { throw TemplateError("the batch payload is not a JSON object") }
        let defaults: [String: JSONValue]
        if case .object(let object)? = JSONValue.parse(Array(defaultsJSON.utf8)) { defaults = object } else { defaults = [:] }
        func text(_ name: String) -> String { payload[name]?.stringValue ?? defaults[name]?.stringValue ?? "" }
        func pairs(_ name: String) -> [KeyValue] {
            guard case .object(let object)? = payload[name] else { return [] }
            return [KeyValue](sortedFrom: object.compactMapValues(\.stringValue))
        }
        var common = OutboundMessage(id: "-", channel: channel, from: text("from"),
                                     replyTo: text("replyTo").isEmpty ? [] : [text("replyTo")],
                                     subject: text("subject"), html: text("html"), text: text("text"),
                                     headers: pairs("headers"), tags: pairs("tags"),
                                     messagingProfile: defaults["messagingProfileId"]?.stringValue ?? "")
        var compiled: [Compiled] = []
        for (field, value) in [(Field.subject, common.subject), (.html, common.html), (.text, common.text)] where value.contains("{{") {
            compiled.append(Compiled(field: field, template: try Self.compile(value, html: field == .html), plain: PlainTemplate(value),
                                     html: field == .html, variables: Self.variables(in: value)))
        }
        var dataTemplates: [String: (MustacheTemplate, Set<String>)] = [:]
        if let data = payload["data"], data != .null {
            self.data = data
            for leaf in Self.stringLeaves(data) where leaf.contains("{{") {
                dataTemplates[leaf] = (try Self.compile(leaf, html: false), Self.variables(in: leaf))
            }
            if dataTemplates.isEmpty { common.payload = data.compactText }
        } else {
            self.data = nil
        }
        self.common = common
        self.compiled = compiled
        self.dataTemplates = dataTemplates
        let plains = compiled.compactMap(\.plain)
        let slots = plains.reduce(into: Set<String>()) { $0.formUnion($1.names) }.sorted()
        let index = Dictionary(uniqueKeysWithValues: slots.enumerated().map { ($1, $0) })
        let bound = zip(compiled, plains).compactMap { entry, plain in plain.bound(to: index).map { (field: entry.field, template: $0, html: entry.html) } }
        if !compiled.isEmpty, bound.count == compiled.count, dataTemplates.isEmpty {
            plainSlots = slots
            boundFields = bound
        } else {
            plainSlots = nil
            boundFields = []
        }
    }

    /// The variables the fields read, sorted: what each recipient must carry. `address` is every recipient's own.
    public var variables: [String] {
        var names = compiled.reduce(into: Set<String>()) { $0.formUnion($1.variables) }
        for (_, (_, used)) in dataTemplates { names.formUnion(used) }
        names.remove("address")
        return names.sorted()
    }

    /// Whether every recipient gets the very same message (nothing to render).
    var isStatic: Bool { compiled.isEmpty && dataTemplates.isEmpty }

    /// The recipient's own fields, or the reason it cannot be sent.
    public func render(position: Int, address: String, variablesJSON: String) -> Result<ChunkJob.Recipient, TemplateError> {
        var recipient = ChunkJob.Recipient(position: position, address: address)
        if isStatic { return .success(recipient) }
        let object: [String: JSONValue]
        if case .object(let members)? = JSONValue.parse(variablesJSON.utf8) { object = members } else { object = [:] }
        if let plainSlots {
            // The common case: every name a template reads has a string, a number or null (or is `address`).
            // Anything else (a variable missing, a list) takes the general way below, which says what is wrong.
            var values: [String] = []
            values.reserveCapacity(plainSlots.count)
            for name in plainSlots {
                guard let value = object[name].map(Self.scalarText) ?? (name == "address" ? address : nil) else { break }
                values.append(value)
            }
            if values.count == plainSlots.count {
                for (field, template, html) in boundFields { recipient.set(field, template.render(values, escapeHTML: html)) }
                return .success(recipient)
            }
        }
        // Strings (and numbers, as text) for the plain renderer; anything else only swift-mustache renders.
        var strings: [String: String] = ["address": address]
        strings.reserveCapacity(object.count + 1)
        var others: [String: Any] = [:]
        for (key, value) in object {
            if let text = Self.scalarText(value) { strings[key] = text } else { others[key] = Self.plain(value) }
        }
        var everything: [String: Any] {
            var all: [String: Any] = others
            for (key, value) in strings { all[key] = value }
            return all
        }
        for entry in compiled {
            if let missing = entry.variables.first(where: { strings[$0] == nil && others[$0] == nil }) {
                return .failure(TemplateError("the recipient has no variable \"\(missing)\", which the \(entry.field.rawValue) uses"))
            }
            let rendered: String
            if let plain = entry.plain, plain.names.allSatisfy({ strings[$0] != nil }) {
                rendered = plain.render(strings, escapeHTML: entry.html)
            } else {
                rendered = entry.template.render(everything)
            }
            recipient.set(entry.field, rendered)
        }
        if let data, !dataTemplates.isEmpty {
            for (_, (_, names)) in dataTemplates {
                if let missing = names.first(where: { strings[$0] == nil && others[$0] == nil }) {
                    return .failure(TemplateError("the recipient has no variable \"\(missing)\", which the data uses"))
                }
            }
            recipient.payload = renderLeaves(data, everything).compactText
        }
        return .success(recipient)
    }

    private func renderLeaves(_ value: JSONValue, _ variables: [String: Any]) -> JSONValue {
        switch value {
        case .string(let text): dataTemplates[text].map { .string($0.0.render(variables)) } ?? value
        case .array(let items): .array(items.map { renderLeaves($0, variables) })
        case .object(let object): .object(object.mapValues { renderLeaves($0, variables) })
        default: value
        }
    }

    private static func compile(_ text: String, html: Bool) throws(TemplateError) -> MustacheTemplate {
        do { return try MustacheTemplate(string: html ? text : "{{% CONTENT_TYPE: TEXT}}" + text) } catch {
            throw TemplateError("the template \"\(text.prefix(60))\" does not parse: \(error)")
        }
    }

    /// The names a template reads as values (`{{name}}`, `{{{name}}}`, `{{&name}}`; dotted names by their
    /// first part). Sections, comments and partials are left to mustache.
    static func variables(in text: String) -> Set<String> {
        var names: Set<String> = []
        for tag in TagScanner.scan(text).tags where tag.kind != .other {
            if let name = tag.content.split(separator: ".").first, !name.isEmpty { names.insert(String(name)) }
        }
        return names
    }

    private static func stringLeaves(_ value: JSONValue) -> [String] {
        switch value {
        case .string(let text): [text]
        case .array(let items): items.flatMap(stringLeaves)
        case .object(let object): object.values.flatMap(stringLeaves)
        default: []
        }
    }

    /// A string as it is, a number as text, null as nothing; nil for what only swift-mustache renders.
    private static func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): text
        case .number, .null: plain(value) as? String
        default: nil
        }
    }

    private static func plain(_ value: JSONValue) -> Any {
        switch value {
        case .string(let text): text
        case .number(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): flag
        case .array(let items): items.map(plain)
        case .object(let object): object.mapValues(plain)
        case .null: ""
        }
    }
}

public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

private extension ChunkJob.Recipient {
    mutating func set(_ field: BatchTemplate.Field, _ text: String) {
        switch field {
        case .subject: subject = text
        case .html: html = text
        case .text: self.text = text
        case .payload: payload = text
        }
    }
}
