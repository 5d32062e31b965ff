import BatchSenderABI

/// The ABI's error vocabulary (status.h) as a Swift value. Each case names the decision to take.
public enum PluginStatus: String, Sendable, Equatable, CaseIterable {
    case ok
    case invalidArgument = "invalid_argument"
    case config
    case unsupported
    case malformed
    case signatureMissing = "signature_missing"
    case signatureInvalid = "signature_invalid"
    case signatureExpired = "signature_expired"
    case signatureEncoding = "signature_encoding"
    case pending
    case forbidden
    case `internal`

    /// A code the host does not know is BSP_E_INTERNAL, as status.h says.
    public init(code: bsp_status) {
        switch code {
        case BSP_OK: self = .ok
        case BSP_E_INVALID_ARGUMENT: self = .invalidArgument
        case BSP_E_CONFIG: self = .config
        case BSP_E_UNSUPPORTED: self = .unsupported
        case BSP_E_MALFORMED: self = .malformed
        case BSP_E_SIGNATURE_MISSING: self = .signatureMissing
        case BSP_E_SIGNATURE_INVALID: self = .signatureInvalid
        case BSP_E_SIGNATURE_EXPIRED: self = .signatureExpired
        case BSP_E_SIGNATURE_ENCODING: self = .signatureEncoding
        case BSP_E_PENDING: self = .pending
        case BSP_E_FORBIDDEN: self = .forbidden
        default: self = .internal
        }
    }

    public var code: bsp_status {
        switch self {
        case .ok: BSP_OK
        case .invalidArgument: BSP_E_INVALID_ARGUMENT
        case .config: BSP_E_CONFIG
        case .unsupported: BSP_E_UNSUPPORTED
        case .malformed: BSP_E_MALFORMED
        case .signatureMissing: BSP_E_SIGNATURE_MISSING
        case .signatureInvalid: BSP_E_SIGNATURE_INVALID
        case .signatureExpired: BSP_E_SIGNATURE_EXPIRED
        case .signatureEncoding: BSP_E_SIGNATURE_ENCODING
        case .pending: BSP_E_PENDING
        case .forbidden: BSP_E_FORBIDDEN
        case .internal: BSP_E_INTERNAL
        }
    }
}

/// A failed plugin call: the status, the field at fault (if any) and a message a person can act on.
public struct PluginFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: PluginStatus
    public var field: String
    public var message: String

    public init(_ status: PluginStatus, field: String = "", _ message: String) {
        self.status = status
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "\(status.rawValue): \(message)" : "\(status.rawValue): \(field): \(message)"
    }
}
