import Domain
import HostCore
import ProviderModel

// Which subject and `Nats-Msg-Id` each job travels under: the streams' knowledge, kept beside them
// rather than in the jobs themselves.

extension BatchJob {
    public var message: OutgoingMessage {
        OutgoingMessage(subject: Streams.batchSubject, id: "batch:\(batchID):\(round)", data: Array(batchID.utf8))
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
        return OutgoingMessage(subject: Streams.deadLetterSubject(batchID: job.batchID), id: nil, data: writer.bytes)
    }
}
