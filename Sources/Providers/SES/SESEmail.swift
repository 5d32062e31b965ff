import ProviderModel

/// The parts of SES v2's request shapes (botocore `sesv2` model) that
/// BatchSender fills in.
struct SESDestination: Encodable {
    var ToAddresses: [String]
    var CcAddresses: [String]?
    var BccAddresses: [String]?
}

struct SESNameValue: Encodable {
    var Name: String
    var Value: String
}

struct SESContentText: Encodable {
    var Data: String
    var Charset = "UTF-8"
}

struct SESTemplate: Encodable {
    var TemplateName: String
    var TemplateData: String
}

/// A provider-side template named by a message's `payload` (message.h):
/// `{"template": "Name", "template_data": {...}}`.
struct SESTemplateChoice: Equatable {
    var name: String
    /// The variables as compact JSON text (SES takes them as a string).
    var data: String

    /// nil when the payload names no template (the payload is the webhook
    /// channel's field; email reads only its "template"); a problem when the template is not understood.
    static func read(_ payload: String, field: String) -> Result<SESTemplateChoice?, SESRefusal> {
        guard !payload.isEmpty, let document = JSONValue.parse(Array(payload.utf8)),
              let named = document["template"] else { return .success(nil) }
        guard let name = named.stringValue else {
            return .failure(SESRefusal("invalid_template", "\(field).payload.template must be a string, the template's name"))
        }
        guard (1...256).contains(name.utf8.count), name.utf8.allSatisfy(SESProvider.isTagByte) else {
            return .failure(SESRefusal("invalid_template", "\(field).payload.template must be 1-256 letters, digits, _ or -"))
        }
        let data = document["template_data"] ?? .object([:])
        guard case .object = data else {
            return .failure(SESRefusal("invalid_template_data", "\(field).payload.template_data must be a JSON object"))
        }
        return .success(SESTemplateChoice(name: name, data: data.compactText))
    }
}

/// Why a message is refused before any request, as a permanent outcome's code and message.
struct SESRefusal: Error {
    var code: String
    var message: String

    init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// `SendEmail`: `POST /v2/email/outbound-emails`.
struct SESSendEmail: Encodable {
    struct SimpleContent: Encodable {
        struct Body: Encodable {
            var Text: SESContentText?
            var Html: SESContentText?
        }

        var Subject: SESContentText
        var Body: Body
        var Headers: [SESNameValue]?
    }

    struct EmailContent: Encodable {
        var Simple: SimpleContent?
        var Template: SESTemplate?
    }

    var FromEmailAddress: String
    var Destination: SESDestination
    var ReplyToAddresses: [String]?
    var Content: EmailContent
    var EmailTags: [SESNameValue]?
    var ConfigurationSetName: String?

    /// SES takes at most 50 recipients per message, To, Cc and Bcc together.
    static let maxRecipients = 50

    init(_ message: OutboundMessage, template: SESTemplateChoice?, configurationSet: String) {
        FromEmailAddress = message.from
        Destination = SESDestination(message)
        ReplyToAddresses = message.replyTo.isEmpty ? nil : message.replyTo
        let headers = SESSendEmail.headers(message)
        if let template {
            self.Content = EmailContent(Simple: nil, Template: SESTemplate(TemplateName: template.name, TemplateData: template.data))
        } else {
            let body = SimpleContent.Body(Text: message.text.isEmpty ? nil : SESContentText(Data: message.text),
                                   Html: message.html.isEmpty ? nil : SESContentText(Data: message.html))
            self.Content = EmailContent(Simple: SimpleContent(Subject: SESContentText(Data: message.subject), Body: body,
                                           Headers: headers.isEmpty ? nil : headers),
                            Template: nil)
        }
        EmailTags = message.tags.isEmpty ? nil : message.tags.map { SESNameValue(Name: $0.name, Value: $0.value) }
        ConfigurationSetName = configurationSet.isEmpty ? nil : configurationSet
    }

    /// The message's headers, and its metadata as one `X-Metadata` JSON header
    /// (SES has no metadata field; events carry headers back when the
    /// configuration set includes them).
    static func headers(_ message: OutboundMessage) -> [SESNameValue] {
        var headers = message.headers.map { SESNameValue(Name: $0.name, Value: $0.value) }
        if !message.metadata.isEmpty {
            let object = JSONValue.object(Dictionary(message.metadata.map { ($0.name, JSONValue.string($0.value)) }) { $1 })
            headers.append(SESNameValue(Name: "X-Metadata", Value: object.compactText))
        }
        return headers
    }

    /// Why SES would refuse this message; nil when it can go.
    static func problem(_ message: OutboundMessage, template: SESTemplateChoice?, field: String) -> SESRefusal? {
        if message.channel != .email { return SESRefusal("unsupported_channel", "\(field): SES sends email only") }
        if message.from.isEmpty { return SESRefusal("missing_required_field", "\(field).from is empty") }
        if message.to.isEmpty { return SESRefusal("invalid_recipient", "\(field).to is empty") }
        let recipients = message.to.count + message.cc.count + message.bcc.count
        if recipients > maxRecipients {
            return SESRefusal("too_many_recipients", "\(field) has \(recipients) recipients in to, cc and bcc; SES takes at most \(maxRecipients)")
        }
        let addresses = [message.from] + message.to + message.cc + message.bcc + message.replyTo
        if !addresses.allSatisfy(HTTPHeaderRules.isSafeValue) {
            return SESRefusal("invalid_address", "\(field): an address contains CR, LF or NUL")
        }
        if template == nil {
            if message.subject.isEmpty { return SESRefusal("missing_required_field", "\(field).subject is empty") }
            if message.html.isEmpty && message.text.isEmpty {
                return SESRefusal("missing_required_field", "\(field) has neither html nor text")
            }
        } else if !message.headers.isEmpty || !message.metadata.isEmpty {
            // Template content takes headers only in recent API versions; refuse rather than drop them.
            return SESRefusal("unsupported_field", "\(field): headers and metadata cannot go with an SES template")
        }
        for header in message.headers where !HTTPHeaderRules.isToken(header.name) || !HTTPHeaderRules.isSafeValue(header.value) {
            return SESRefusal("invalid_header", "\(field).headers[\(header.name.prefix(40))]: the name must be a token, the value free of CR, LF and NUL")
        }
        for tag in message.tags {
            let valid = (1...256).contains(tag.name.utf8.count) && tag.name.utf8.allSatisfy(SESProvider.isTagByte)
                && tag.value.utf8.count <= 256 && tag.value.utf8.allSatisfy(SESProvider.isTagByte)
            if !valid {
                return SESRefusal("invalid_tag", "\(field).tags[\(tag.name.prefix(40))]: SES tag names and values take 1-256 letters, digits, _ or -")
            }
        }
        return nil
    }
}

extension SESDestination {
    init(_ message: OutboundMessage) {
        ToAddresses = message.to
        CcAddresses = message.cc.isEmpty ? nil : message.cc
        BccAddresses = message.bcc.isEmpty ? nil : message.bcc
    }
}

/// `SendBulkEmail`: `POST /v2/email/outbound-bulk-emails`, one template for
/// up to 50 entries, each with its own destination and variables.
struct SESBulkEmail: Encodable {
    struct Entry: Encodable {
        struct Replacement: Encodable {
            struct Template: Encodable {
                var ReplacementTemplateData: String
            }

            var ReplacementTemplate: Template
        }

        var Destination: SESDestination
        var ReplacementTags: [SESNameValue]?
        var ReplacementEmailContent: Replacement
    }

    struct TemplateContent: Encodable {
        var Template: SESTemplate
    }

    var FromEmailAddress: String
    var ReplyToAddresses: [String]?
    var DefaultContent: TemplateContent
    var BulkEmailEntries: [Entry]
    var ConfigurationSetName: String?

    static let maxEntries = 50

    init(_ messages: [OutboundMessage], template: String, configurationSet: String, data: [String]) {
        let first = messages.first
        FromEmailAddress = first?.from ?? ""
        ReplyToAddresses = (first?.replyTo.isEmpty ?? true) ? nil : first?.replyTo
        self.DefaultContent = TemplateContent(Template: SESTemplate(TemplateName: template, TemplateData: "{}"))
        BulkEmailEntries = zip(messages, data).map { message, data in
            Entry(Destination: SESDestination(message),
                  ReplacementTags: message.tags.isEmpty ? nil : message.tags.map { SESNameValue(Name: $0.name, Value: $0.value) },
                  ReplacementEmailContent: .init(ReplacementTemplate: .init(ReplacementTemplateData: data)))
        }
        ConfigurationSetName = configurationSet.isEmpty ? nil : configurationSet
    }
}
