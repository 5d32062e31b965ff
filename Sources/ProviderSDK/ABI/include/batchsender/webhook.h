/*
 * batchsender/webhook.h — the webhook interface: "batchsender.webhook/1".
 *
 * The host's webhook receiver calls verify on every inbound request before
 * it accepts it, and parse later (in the webhook processor) to turn the body
 * into normalised events.
 */
#ifndef BATCHSENDER_WEBHOOK_H
#define BATCHSENDER_WEBHOOK_H

#include "types.h"
#include "status.h"
#include "http.h"
#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BSP_WEBHOOK_V1 "batchsender.webhook/1"

typedef struct bsp_instance bsp_instance;

/* Returned by get_interface(BSP_WEBHOOK_V1). Static, owned by the plugin. */
typedef struct bsp_webhook_v1 {
    uint32_t struct_size;

    /* Checks that `request` was signed by the provider with this instance's
     * secret, at a time within the tolerance of host->now_ms.
     * Compare signatures in constant time.
     *
     * Returns BSP_OK (authentic) or why not, with set_error saying more:
     * BSP_E_SIGNATURE_MISSING (a header is absent), BSP_E_SIGNATURE_INVALID,
     * BSP_E_SIGNATURE_EXPIRED (stale or future), BSP_E_SIGNATURE_ENCODING,
     * BSP_E_FORBIDDEN (e.g. a certificate URL or topic not allowed),
     * BSP_E_PENDING (waiting on a host fetch; the host calls again),
     * BSP_E_MALFORMED (the body must be read to verify and cannot be).
     *
     * Ownership: `request` is the host's, valid until return.
     * Threads: any thread, concurrently on one instance. */
    bsp_status (*verify)(bsp_instance *instance, bsp_call *call,
                         const bsp_inbound_request *request);

    /* Emits the normalised events in a verified request's body: zero or
     * more, one per affected recipient. A provider event type the plugin
     * does not map is emitted as BSP_EVENT_UNKNOWN with its raw JSON, never
     * dropped.
     *
     * Returns BSP_OK, or BSP_E_MALFORMED (not the provider's format; nothing
     * emitted is used), BSP_E_INTERNAL.
     * Ownership, threads: as verify. */
    bsp_status (*parse)(bsp_instance *instance, bsp_call *call,
                        const bsp_inbound_request *request);
} bsp_webhook_v1;

#ifdef __cplusplus
}
#endif

#endif /* BATCHSENDER_WEBHOOK_H */
