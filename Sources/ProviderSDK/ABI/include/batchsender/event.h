/*
 * batchsender/event.h — the normalised delivery event, the project's contract
 * with every plugin. A provider's webhook body becomes zero or more of these
 * (one per affected recipient). The JSON form is in docs/schemas.md.
 */
#ifndef BATCHSENDER_EVENT_H
#define BATCHSENDER_EVENT_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BSP_EVENT_UNKNOWN       0 /* a type the plugin does not map */
#define BSP_EVENT_QUEUED        1 /* accepted, waiting at the provider */
#define BSP_EVENT_SENT          2 /* handed to the next hop */
#define BSP_EVENT_DELIVERED     3 /* the recipient's server or handset took it */
#define BSP_EVENT_DEFERRED      4 /* delayed, the provider keeps trying */
#define BSP_EVENT_BOUNCED       5 /* see bounce_class */
#define BSP_EVENT_COMPLAINED    6 /* marked as spam */
#define BSP_EVENT_REJECTED      7 /* refused before sending (suppressed, policy) */
#define BSP_EVENT_FAILED        8 /* could not be sent (rendering, carrier) */
#define BSP_EVENT_OPENED        9
#define BSP_EVENT_CLICKED      10
#define BSP_EVENT_UNSUBSCRIBED 11
/* Not about a message: the provider asks to confirm a webhook subscription
 * (SNS SubscriptionConfirmation). `url` is the confirmation URL, which the
 * host GETs only after verify succeeded; recipient and message id are empty. */
#define BSP_EVENT_SUBSCRIPTION_CONFIRMATION 12

#define BSP_BOUNCE_NONE 0 /* not a bounce */
#define BSP_BOUNCE_HARD 1 /* permanent: suppress the address */
#define BSP_BOUNCE_SOFT 2 /* transient: mailbox full, greylisted */

/* Emitted through bsp_call.emit_event; views need to live only until
 * emit_event returns (the host copies them). */
typedef struct bsp_event {
    uint32_t struct_size;
    /* One of BSP_EVENT_*. */
    int32_t type;
    /* One of BSP_BOUNCE_*; BSP_BOUNCE_NONE unless type is BSP_EVENT_BOUNCED. */
    int32_t bounce_class;
    /* When it happened at the provider, milliseconds since the Unix epoch;
     * 0 when the provider does not say. A value past 9999-12-31 (or below 0)
     * is read as 0: the host dates the event by its arrival. */
    int64_t timestamp_ms;
    /* Stable across the provider's retries of the same event, for
     * de-duplication, e.g. the svix-id header. Required. */
    bsp_str event_id;
    /* The id the provider returned at send (bsp_outcome.provider_message_id). */
    bsp_str provider_message_id;
    /* The one recipient this event is about: a bare address or E.164 number. */
    bsp_str recipient;
    /* Human-readable reason, e.g. "Permanent: NoEmail". */
    bsp_str reason;
    /* The provider's own code, e.g. an SMTP "550 5.1.1" or "40001". */
    bsp_str code;
    /* Clicked: the link. Empty otherwise. */
    bsp_str url;
    /* Opened / clicked / complained: the user agent, when known. */
    bsp_str user_agent;
    /* The provider's event as JSON text (the part this event came from). */
    bsp_str raw;
} bsp_event;

#ifdef __cplusplus
}
#endif

#endif /* BATCHSENDER_EVENT_H */
