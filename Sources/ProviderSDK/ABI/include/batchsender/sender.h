/*
 * batchsender/sender.h — the sender interface: "batchsender.sender/1".
 *
 * Sending is two pure calls around the host's HTTP client:
 *   prepare(messages)            -> the HTTP request(s) to make
 *   interpret(messages, response) -> one outcome per message
 * The plugin never does I/O and never blocks; the host owns connections,
 * TLS, timeouts, retries and rate limits.
 */
#ifndef BATCHSENDER_SENDER_H
#define BATCHSENDER_SENDER_H

#include "types.h"
#include "status.h"
#include "message.h"
#include "http.h"
#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BSP_SENDER_V1 "batchsender.sender/1"

typedef struct bsp_instance bsp_instance;

/* Returned by get_interface(BSP_SENDER_V1). Static, owned by the plugin. */
typedef struct bsp_sender_v1 {
    uint32_t struct_size;

    /* Builds the HTTP request(s) that send `messages[0..count)`, 1 <= count
     * <= descriptor.max_batch. Every message index ends up in exactly one
     * place: in one emitted request's message_indices, or in one emitted
     * outcome (a message refused before sending, e.g. an invalid number:
     * BSP_OUTCOME_PERMANENT with the reason).
     *
     * Ownership: `messages` (an array of pointers, so the host's struct may
     * be larger than the plugin's) and all they point to are the host's,
     * valid until return. Emitted data is copied by the host at once.
     * Threads: any thread, concurrently on one instance.
     * Returns BSP_OK, or an error for the whole call (nothing emitted is
     * used): BSP_E_INVALID_ARGUMENT (count out of range, NULL message),
     * BSP_E_UNSUPPORTED (a channel the plugin does not send on),
     * BSP_E_INTERNAL. */
    bsp_status (*prepare)(bsp_instance *instance, bsp_call *call,
                          const bsp_message *const *messages, size_t count);

    /* Turns what happened to one request into one outcome per message it
     * carried. `messages[0..count)` are the request's messages in the order
     * of its message_indices; outcomes index into this array.
     *
     * Must emit exactly one outcome for each index 0..count-1, whatever the
     * response: success, 429 with or without retry-after, 4xx, 5xx, an empty
     * or garbage body, or a transport failure (response->transport !=
     * BSP_TRANSPORT_OK). A body the plugin cannot read is an outcome
     * (retryable for 5xx and transport failures, permanent otherwise), not
     * an error.
     *
     * Ownership, threads: as prepare. Returns BSP_OK, or
     * BSP_E_INVALID_ARGUMENT / BSP_E_INTERNAL, in which case the host treats
     * every message as retryable. */
    bsp_status (*interpret)(bsp_instance *instance, bsp_call *call,
                            const bsp_message *const *messages, size_t count,
                            const bsp_http_response *response);
} bsp_sender_v1;

#ifdef __cplusplus
}
#endif

#endif /* BATCHSENDER_SENDER_H */
