/// What each fate the sandbox draws becomes as a recipient's final status once a receiver has
/// applied the provider's webhooks as its plugin parses them. Tests and the main job compare a
/// batch with `GET /sandbox/fates` through it.
public enum PlannedStatus {
    public static let byProvider: [String: [String: String]] = [
        "resend": ["delivered": "delivered", "delayed": "delivered", "hard_bounce": "bounced", "soft_bounce": "bounced",
                   "complained": "complained", "failed": "failed"],
        // With event publishing (a configuration set): a refused message is a Reject.
        "ses": ["delivered": "delivered", "delayed": "delivered", "hard_bounce": "bounced", "soft_bounce": "bounced",
                "complained": "complained", "failed": "rejected"],
        // SMS: no complaints; an unconfirmed delivery stays sent.
        "telnyx": ["delivered": "delivered", "delayed": "delivered", "hard_bounce": "bounced", "soft_bounce": "sent",
                   "complained": "delivered", "failed": "failed"],
    ]

    /// The final status of a message of `provider` whose fate is `fate`.
    public static func of(provider: String, fate: String) -> String? { byProvider[provider]?[fate] }
}
