/// The parts of the sandbox that keep their own statistics.
public enum SandboxProvider: String, Sendable, CaseIterable {
    case resend, ses, telnyx, receiver
}

/// What becomes of one accepted message, drawn from the configured outcome mix.
enum MessageFate: String, Sendable {
    case delivered, hardBounce = "hard_bounce", softBounce = "soft_bounce", complained, failed, delayed
}
