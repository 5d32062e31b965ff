import HTTPTypes
import Hummingbird
import NIOCore
import ProviderModel

/// JSON responses from bytes the API wrote itself (or PostgreSQL built).
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status = .ok, _ bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `replayed`: the answer repeats an earlier request's result (its `Idempotency-Key`), said by `Idempotent-Replayed: true`.
    static func make(_ status: HTTPResponse.Status = .ok, text: String, replayed: Bool = false) -> Response {
        make(status, Array(text.utf8), headers: replayed ? [HTTPField.Name("Idempotent-Replayed")!: "true"] : [:])
    }

    static func make(_ status: HTTPResponse.Status = .ok, _ value: JSONValue) -> Response {
        make(status, value.compactBytes)
    }

    /// `{"data":[…rows…],"nextCursor":…}`: a page of rows that are JSON text already.
    static func page(_ rows: [String], nextCursor: String?) -> Response {
        var writer = JSONWriter(capacity: rows.reduce(32) { $0 + $1.utf8.count + 1 })
        writer.beginObject()
        writer.key("data")
        writer.beginArray()
        for row in rows { writer.raw(row) }
        writer.endArray()
        writer.key("nextCursor")
        if let nextCursor { writer.string(nextCursor) } else { writer.null() }
        writer.endObject()
        return make(.ok, writer.bytes)
    }
}
