/*
 * batchsender/message.h — the normalised message a plugin is asked to send.
 *
 * The host renders templates and resolves defaults before a plugin sees a
 * message: every field here is final text. The JSON form of the same schema
 * (what `batchsender plugin prepare --messages` reads) is in docs/schemas.md.
 *
 * Ownership: the host owns every byte. A message and everything it points to
 * live until the plugin function it was passed to returns.
 */
#ifndef BATCHSENDER_MESSAGE_H
#define BATCHSENDER_MESSAGE_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A file sent with an email (1.2). */
typedef struct bsp_attachment {
    /* The name the recipient sees, e.g. "invoice-42.pdf": 1..255 bytes of
     * UTF-8 with no control characters, '/', '\\' or '"'. */
    bsp_str filename;
    /* A media type, e.g. "application/pdf"; empty lets the provider derive
     * it from the filename. */
    bsp_str content_type;
    /* The file's bytes, not encoded: a plugin encodes them as its provider
     * wants (base64 for JSON APIs). */
    bsp_bytes content;
} bsp_attachment;

typedef struct bsp_attachment_list {
    const bsp_attachment *items;
    size_t count;
} bsp_attachment_list;

typedef struct bsp_message {
    /* sizeof(bsp_message) as the host knows it. Read only fields that end
     * within it: fields are only ever added at the end. */
    uint32_t struct_size;
    /* One of BSP_CHANNEL_*. */
    uint32_t channel;
    /* The host's id for this message, e.g. "rcp_01HV…"; for logs and for
     * outcomes. Always present. */
    bsp_str id;
    /* Stable across retries of the same (batch, recipient), e.g.
     * "batch_42:rcp_7". Pass it to providers that accept one
     * (Idempotency-Key); always present. */
    bsp_str idempotency_key;
    /* Email: "Name <sender@example.com>" or a bare address. SMS: an E.164
     * number or alphanumeric sender id; may be empty when messaging_profile
     * is set. Webhook: empty. */
    bsp_str from;
    /* Email: 1..n addresses. SMS: exactly one E.164 number. Webhook: empty
     * (the URL comes from the instance's configuration). */
    bsp_str_list to;
    bsp_str_list cc;       /* email only */
    bsp_str_list bcc;      /* email only */
    bsp_str_list reply_to; /* email only */
    bsp_str subject;       /* email only */
    bsp_str html;          /* email only */
    /* Email: the plain-text part. SMS: the message text. */
    bsp_str text;
    /* Extra headers, e.g. {"List-Unsubscribe": "<https://…>"}. Values may
     * contain anything, CR and LF included: a plugin must never copy them
     * into an HTTP header unescaped. */
    bsp_pair_list headers;
    /* Provider tags, e.g. {"campaign": "spring"}. */
    bsp_pair_list tags;
    /* The sender's own key/values, echoed back in events where the provider
     * supports it, e.g. {"batch_id": "42"}. */
    bsp_pair_list metadata;
    /* SMS: the provider's messaging profile, used when `from` is empty. */
    bsp_str messaging_profile;
    /* Webhook channel: the JSON document to deliver, as UTF-8 text.
     * Email: empty, or a JSON object whose "template" names a template kept
     * at the provider and "template_data" gives its variables, for
     * providers that have templates (SES); others ignore it. */
    bsp_str payload;
    /* 1.2. Email: files every recipient of the message gets; the host checks
     * names and sizes before a plugin sees them (at most 10 files, 10 MiB in
     * all). A plugin that cannot send them answers BSP_OUTCOME_PERMANENT with
     * code "attachments_unsupported" rather than sending without them. A
     * plugin built for 1.0 or 1.1 never sees this field: the host refuses a
     * message with attachments for it, with the same code, without calling it.
     * The bytes may be shared by every message of a call: read, never write. */
    bsp_attachment_list attachments;
} bsp_message;

#ifdef __cplusplus
}
#endif

#endif /* BATCHSENDER_MESSAGE_H */
