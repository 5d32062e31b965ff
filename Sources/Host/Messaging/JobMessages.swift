import Domain
import HostCore
import ProviderModel

// Which subject and `Nats-Msg-Id` each job travels under: the streams' knowledge, kept beside them
// rather than in the jobs themselves.

extension BatchJob {
    public var message: OutgoingMessage {
        OutgoingMessage(subject: Streams.batchSubject, id: "batch:\(batchID):\(round)" + (retry > 0 ? ":r\(retry)" : ""), data: Array(batchID.utf8))
    }
}

extension DeadLetter {
    public var message: OutgoingMessage {
        var writer = JSONWriter(capacity: 1_024)
        writer.beginObject()
        writer.member("reasons", strings: reasons)
        writer.key("job")
        writer.raw(String(decoding: job.encoded(), as: UTF8.self))
        writer.endObject()
        return OutgoingMessage(subject: Streams.deadLetterSubject(batchID: job.batchID), id: messageID, data: writer.bytes)
    }

    /// `dead:{batch}:{redrive round}:{first position}+{count}:{digest of the positions}`: a letter published again
    /// (a round recorded twice after a crash, a retried publish) is dropped by JetStream as a duplicate, while a
    /// later letter of the same recipients, after a redrive, differs by its round.
    public var messageID: String {
        let positions = job.recipients.map(\.position)
        // FNV-1a over the positions: the id stays short however many recipients the letter holds.
        var digest: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in positions.map(String.init).joined(separator: ",").utf8 {
            digest = (digest ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return "dead:\(job.batchID):\(job.redriveRound):\(positions.first ?? 0)+\(positions.count):\(String(digest, radix: 16))"
    }
}
