/// The memory a sender's emails with files may hold at once: each message's request carries its files again,
/// base64-encoded, and the plugin reads its own copy, so 32 chunks of three 10 MiB emails would be gigabytes.
/// A chunk with files waits here, first come first served, until its share is free.
actor FileSendBudget {
    private let bytes: Int
    private var used = 0
    private var waiting: [(need: Int, resume: CheckedContinuation<Void, Never>)] = []

    init(bytes: Int = 256 << 20) {
        self.bytes = bytes
    }

    /// What sending `messages` emails that carry `fileBytes` of files each holds: the files' bytes three times
    /// over per message (the plugin's copy, the base64 body, the client's), never more than the whole budget.
    func share(fileBytes: Int, messages: Int) -> Int {
        // A batch's files are at most 10 MiB and a chunk at most a few hundred messages: no overflow in 64 bits.
        min(bytes, max(fileBytes, 0) * 3 * max(messages, 1))
    }

    func acquire(_ need: Int) async {
        if waiting.isEmpty, used + need <= bytes {
            used += need
            return
        }
        await withCheckedContinuation { waiting.append((need, $0)) }
    }

    func release(_ need: Int) {
        used -= need
        while let first = waiting.first, used + first.need <= bytes {
            waiting.removeFirst()
            used += first.need
            first.resume.resume()
        }
    }
}
