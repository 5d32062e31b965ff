/// Which transfers the curl multi handle holds: per origin (scheme, host, port), no more than can run at
/// once, the rest waiting here in order. libcurl 7.88 keeps transfers beyond the connection limit in a
/// pending list that every removal of a finished transfer walks: with a round's requests all handed to it,
/// removals were a quarter of the host's CPU on one-message providers. An origin that answered over HTTP/2
/// runs many streams per connection, and is given room for them. Used by the transfer thread only.
struct OriginAdmission<Transfer: OriginBound> {
    let connectionsPerOrigin: Int
    /// Streams per HTTP/2 connection let in at once: well under the 100 servers usually allow.
    static var streamsPerConnection: Int { 16 }

    private var running: [String: Int] = [:]
    private var waiting: [String: Waiting] = [:]
    private var multiplexed: Set<String> = []

    init(connectionsPerOrigin: Int) { self.connectionsPerOrigin = max(1, connectionsPerOrigin) }

    /// Transfers in line, first come first served, without moving the rest on each take; a slot taken is
    /// emptied at once, so a transfer done with is not kept alive by the line.
    private struct Waiting {
        var items: [Transfer?] = []
        var head = 0
        var isEmpty: Bool { head == items.count }
        mutating func append(_ transfer: Transfer) { items.append(transfer) }
        /// The first in line; nil when none waits.
        mutating func take() -> Transfer? {
            guard head < items.count else { return nil }
            // Slots before `head` are emptied as they are taken; the one at `head` is always filled.
            guard let transfer = items[head] else { preconditionFailure("a taken slot at the head of an origin's line") }
            items[head] = nil
            head += 1
            if head == items.count {
                items.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 1_024, head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return transfer
        }
    }

    private func limit(_ origin: String) -> Int {
        multiplexed.contains(origin) ? connectionsPerOrigin * Self.streamsPerConnection : connectionsPerOrigin
    }

    /// The transfer itself when its origin has room now (the caller adds it to the multi handle), else nil: it waits.
    mutating func admit(_ transfer: Transfer) -> Transfer? {
        let origin = transfer.origin
        // Room means no line: `finished` lets the line in as soon as there is room.
        if running[origin, default: 0] < limit(origin) {
            running[origin, default: 0] += 1
            return transfer
        }
        waiting[origin, default: Waiting()].append(transfer)
        return nil
    }

    /// A transfer of `origin` is done (`http2`: its answer came over HTTP/2): the transfers that now have room.
    mutating func finished(_ origin: String, http2: Bool) -> [Transfer] {
        // Bounded: tenants choose webhook URLs, and an origin forgotten is only let in more slowly.
        if http2, !multiplexed.contains(origin) {
            if multiplexed.count >= 10_000 { multiplexed.removeAll() }
            multiplexed.insert(origin)
        }
        running[origin, default: 1] -= 1
        var admitted: [Transfer] = []
        // The line is changed where it is stored: a copy taken out of the dictionary would copy its whole array
        // on every take (the line can hold a round's requests).
        while running[origin, default: 0] < limit(origin), let next = waiting[origin]?.take() {
            admitted.append(next)
            if waiting[origin]?.isEmpty == true { waiting[origin] = nil }
            running[origin, default: 0] += 1
        }
        if running[origin] == 0 { running[origin] = nil }
        return admitted
    }

    /// No transfer waits (at shutdown the client runs until then: those waiting are let in as others finish).
    var isEmpty: Bool { waiting.isEmpty }
}

/// A request that belongs to an origin (`CurlTransfer`; anything in tests).
protocol OriginBound {
    var origin: String { get }
}
