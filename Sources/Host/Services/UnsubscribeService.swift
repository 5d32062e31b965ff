import Domain
import Persistence

/// One-click unsubscribe (RFC 8058): a recipient's link, followed with a POST and no login, adds the address to
/// the sender's suppressions with source `unsubscribe`. The token alone says whose and which address; one this
/// deployment did not sign is 404, and nothing is written for it.
package struct UnsubscribeService: Sendable {
    let database: Database
    let links: UnsubscribeLinks

    package init(database: Database, links: UnsubscribeLinks) {
        self.database = database
        self.links = links
    }

    /// Whom a token unsubscribes; 404 for a token that is not one of ours.
    package func subscriber(_ token: String) throws(APIError) -> UnsubscribeLinks.Subscriber {
        guard let subscriber = links.subscriber(for: token) else { throw APIError.notFound("that unsubscribe link", field: "path.token") }
        return subscriber
    }

    /// Suppresses the token's address for its sender: the address. Repeating it changes nothing.
    package func unsubscribe(_ token: String) async throws(APIError) -> String {
        let subscriber = try subscriber(token)
        let done = try await database.transaction { db -> Bool in
            // The user may have been deleted since the mail went out: then there is no one to unsubscribe from.
            guard try Users.exists(db, id: subscriber.userID) else { return false }
            // An address suppressed already (a bounce, a complaint, an earlier click) keeps its row as it was, and a
            // link clicked again writes nothing.
            if try Suppressions.insertIfAbsent(db, userID: subscriber.userID, address: subscriber.address,
                                               reason: SuppressionService.unsubscribed, source: SuppressionService.unsubscribed) {
                try AuditLog.record(db, userID: subscriber.userID, action: "suppression.unsubscribed", subject: "suppression", id: subscriber.address)
            }
            return true
        }
        guard done else { throw APIError.notFound("that unsubscribe link", field: "path.token") }
        return subscriber.address
    }
}
