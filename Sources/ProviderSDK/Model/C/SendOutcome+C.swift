import BatchSenderABI

extension SendOutcome.Kind {
    public init?(code: Int32) {
        switch code {
        case BSP_OUTCOME_ACCEPTED: self = .accepted
        case BSP_OUTCOME_RETRYABLE: self = .retryable
        case BSP_OUTCOME_PERMANENT: self = .permanent
        case BSP_OUTCOME_THROTTLED: self = .throttled
        default: return nil
        }
    }

    public var code: Int32 {
        switch self {
        case .accepted: BSP_OUTCOME_ACCEPTED
        case .retryable: BSP_OUTCOME_RETRYABLE
        case .permanent: BSP_OUTCOME_PERMANENT
        case .throttled: BSP_OUTCOME_THROTTLED
        }
    }
}

extension SendOutcome {
    /// nil when the kind is not one outcome.h defines. A `retry_after_ms` past `maximumRetryAfterMs`
    /// is read as that: whatever a plugin computed from a response, the host's delays stay in range.
    public init?(reading pointer: UnsafePointer<bsp_outcome>) {
        let c = bsp_outcome.read(from: pointer)
        guard let kind = Kind(code: c.kind) else { return nil }
        self.init(messageIndex: Int(c.message_index), kind: kind, providerMessageId: c.provider_message_id.string,
                  retryAfterMs: c.retry_after_ms >= 0 ? Swift.min(c.retry_after_ms, Self.maximumRetryAfterMs) : nil, code: c.code.string,
                  message: c.message.string)
    }

    /// Passes a borrowed C view of this outcome to `body`, in the kinds a host of ABI minor
    /// `hostMinor` knows (entry.h): a 1.0 host is given a throttled outcome as retryable.
    @inlinable
    public func withCOutcome<R>(hostMinor: UInt32 = UInt32(BSP_ABI_MINOR), _ body: (UnsafePointer<bsp_outcome>) -> R) -> R {
        providerMessageId.withBSPStr { id in
            code.withBSPStr { code in
                message.withBSPStr { message in
                    var c = bsp_outcome()
                    c.struct_size = bsp_outcome.currentSize
                    c.message_index = UInt32(truncatingIfNeeded: messageIndex)
                    c.kind = kind.compatible(withHostMinor: hostMinor).code
                    c.retry_after_ms = retryAfterMs ?? -1
                    c.provider_message_id = id
                    c.code = code
                    c.message = message
                    return withUnsafePointer(to: &c, body)
                }
            }
        }
    }
}
